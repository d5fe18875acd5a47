"""`archc run`: the whole method in one command (`runtime.pipeline.Pipeline`), stage by stage,
each skipped when its results are already in the run folder (delete a stage's folder to redo it).

Stages and the file that marks each one done:
  data      RUN/data/meta.json            (only without --data: a synthetic blur set)
  teacher   RUN/teacher/weights.safetensors (only without --weights: NAFNet's recipe at lr 2e-3,
                                            saving a moving average of the weights)
  teacher check (always; cheap)             the teacher must beat the blurred validation crops by
                                            0.1 dB, else the run stops (--allow-weak-teacher)
  saliency  RUN/saliency/saliency.json    (with ablation: which metric to trust)
  profile   RUN/profile/latency.json      (block table on --device, status complete)
  distill   RUN/distill/distill.json      (surrogates in RUN/distill/surrogates)
  search    RUN/search/search.json
  export    RUN/export/export.json        (the knee point, unless --pick, in the --format files; with precisions,
                                            a QDQ ONNX too)
  verify    RUN/verify/verify.json        (the pick fine-tuned, scored on the whole test split, its ONNX
                                            timed against the teacher's: "predicted -> verified")
  report    RUN/report.html, RUN/report.md (always rewritten)
`--precision P` searches each slot's precision too (fp16 or P), as a `precision *: P` line in the
spec's search would: the search stage reads RUN/<name>.precision.arch, the spec with that line.
Timings go to RUN/run.json, with the accelerator, its name and the AMP setting of each stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archc.errors import ArchError
from archc.runtime.profile.proxy import PROXIES

from .options import (
    accelerator_option,
    allow_weak_teacher_option,
    amp_option,
    cluster_option,
    context,
    device_option,
    format_option,
    jobs_option,
    metrics_option,
    names,
    per_round_option,
    seed_option,
    size_option,
    val_images_option,
    weights_option,
)
from .output import console, err_console
from .search import STRATEGY_NAMES
from .verify import loss_option, probes_option, rounds_option, steps_option, within_option

# the options a resumed run must repeat, in the `resume with:` line
RESUMED = (
    ("data", None),
    ("weights", None),
    ("device", "cpu"),
    ("cluster", "local"),
    ("allow_weak_teacher", False),
    ("precision", None),
    ("latency_proxy", None),
    ("formats", ("onnx",)),
)
FLAGS = {"formats": "format"}  # option names that differ from their field's


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--data", type=click.Path(file_okay=False), help="Dataset (default: build a synthetic blur set).")
@weights_option(required=False, text="Teacher weights (default: train one).")
@device_option
@click.option(
    "--latency-proxy",
    type=click.Choice(PROXIES),
    help="Search on a proxy instead of --device's block table: `transformer-count` = transformer blocks "
    "(a count, not ms). The profile stage still runs, so the front can be re-priced on --device.",
)
@click.option("--budget", type=int, help="Networks the search evaluates (default: the spec's, else 40).")
@click.option(
    "--strategy",
    type=click.Choice(STRATEGY_NAMES),
    default="botorch",
    show_default=True,
    help="Search strategy (`archc search --help` says what each does).",
)
@click.option(
    "--pick",
    default="knee",
    show_default=True,
    help="Network to export: knee, fastest, drop<=DB (best speed-up within DB), speedup>=X (least drop at "
    "X times faster), best-under=MS, or an index.",
)
@click.option("--train-minutes", type=float, default=15.0, show_default=True, help="Teacher training time.")
@click.option(
    "--train-iters",
    type=click.IntRange(1),
    help="Teacher training steps, in place of --train-minutes (the same teacher on any machine).",
)
@click.option("--distill-iters", type=int, default=600, show_default=True, help="Training steps per surrogate.")
@click.option(
    "--distill-fraction",
    type=float,
    default=0.25,
    show_default=True,
    help="Share of the training pairs the surrogates learn from.",
)
@click.option(
    "--saliency-batches",
    type=click.IntRange(1),
    default=4,
    show_default=True,
    help="Batches the gradient saliency measures average over.",
)
@metrics_option("--saliency-metrics", "Comma-separated saliency metrics.")
@click.option(
    "--ablate/--no-ablate",
    default=True,
    show_default=True,
    help="Measure each block's PSNR drop when removed (tells which saliency metric to trust).",
)
@jobs_option(2, "Parallel surrogate trainings (and local search evaluations, up to --per-round).")
@size_option((256, 256), "Profiling input H W.")
@val_images_option(8, "Test images (128 px centre crops) that saliency ablation, distillation and search score.")
@seed_option
@click.option("--out", default="runs/run", show_default=True, type=click.Path(file_okay=False), help="Run folder.")
@accelerator_option
@amp_option
@cluster_option
@per_round_option
@allow_weak_teacher_option
@click.option(
    "--precision",
    "precision",
    help="Search each slot's precision too: fp16 or these (e.g. `w8a8`, "
    "`w8a8,w8a16`), as a `precision *: ...` line in the spec's search would.",
)
@click.option(
    "--verify/--no-verify",
    "do_verify",
    default=True,
    show_default=True,
    help="Fine-tune, score and time the exported pick (the verify stage).",
)
@steps_option
@loss_option
@rounds_option
@within_option
@probes_option
@format_option
@click.pass_context
def run_cmd(
    ctx: click.Context,
    spec: str,
    out: str,
    accelerator: str = "auto",
    amp: str = "off",
    cluster: str = "local",
    allow_weak_teacher: bool = False,
    **options: Any,
) -> None:
    """Run the whole method on SPEC: data, teacher, saliency, latency, surrogates, search, export, report.
    Torch stages run on --accelerator; the teacher and the surrogates train with --amp; profiling,
    distillation and the search's rounds run on --cluster (one connection for the whole run)."""
    from archc.runtime.pipeline import Pipeline

    settings = run_settings(spec, options)
    resume = resume_line(spec, out, {**options, "cluster": cluster, "allow_weak_teacher": allow_weak_teacher})
    with context(accelerator, amp, cluster, settings.jobs, allow_weak_teacher) as stages:
        pipeline = Pipeline(out, settings, stages, on_result=lambda stage, result: show(stage, result, Path(out)))
        try:
            pipeline.run()
        except Exception as exc:
            if pipeline.failed is None:
                raise
            _fail(ctx, pipeline.failed, exc, Path(out), resume)
    console.print(f"report: {Path(out) / 'report.html'} (and report.md)")


def run_settings(spec: str, options: dict[str, Any]) -> Any:
    """`archc run`'s options as the pipeline's `RunSettings` (the option names are its field names,
    but for the saliency metrics, --verify and the --verify-* options)."""
    from archc.runtime.pipeline import RunSettings, VerifySettings

    o = dict(options)
    verification = VerifySettings(
        o.pop("steps"), o.pop("loss"), o.pop("rounds"), o["seed"], None, o.pop("within"), o.pop("probes")
    )
    o["saliency_metrics"], o["verify"] = names(o.pop("metrics")), o.pop("do_verify")
    return RunSettings(spec, **{**o, "size": tuple(o["size"])}, verification=verification)


def resume_line(spec: str, out: str, o: dict[str, Any]) -> str:
    """The command that resumes this run: the options that say what the run is."""
    flags = [
        f"--{FLAGS.get(k, k).replace('_', '-')}" + ("" if v is True else f" {_flag_value(v)}")
        for k, default in RESUMED
        if (v := o.get(k)) not in (None, default)
    ]
    return " ".join([f"archc run {spec} --out {out}", *flags])


def _flag_value(value: Any) -> str:
    """An option's value as typed on the command line (a tuple of names comma-separated)."""
    return ",".join(value) if isinstance(value, tuple) else str(value)


def show(stage: str, result: Any, out: Path) -> None:
    """Print what a stage returned, as its own command prints it."""
    from .data import print_summary
    from .distill import print_distill
    from .profile import print_profile
    from .saliency import print_saliency
    from .search import print_export, print_search
    from .verify import print_table

    printers = {
        "data": print_summary,
        "saliency": print_saliency,
        "profile": print_profile,
        "distill": print_distill,
        "search": lambda r: print_search(r, out / "search"),
        "export": print_export,
        "verify": print_table,
    }
    if stage in printers:
        printers[stage](result)


def _fail(ctx: click.Context, name: str, exc: BaseException, out: Path, resume: str) -> None:
    if isinstance(exc, ArchError):
        err_console.print(exc.render(), markup=False, highlight=False)
    elif not isinstance(exc, click.ClickException):
        err_console.print(f"{type(exc).__name__}: {exc}", markup=False)
    err_console.print(
        f"stage `{name}` failed; the results of earlier stages are kept in {out}.\nresume with: {resume}", markup=False
    )
    if ctx.obj and ctx.obj.get("debug"):
        raise exc
    ctx.exit(1)
