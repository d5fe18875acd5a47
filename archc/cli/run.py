"""`archc run`: the whole method in one command, stage by stage, each skipped when its results
are already in the run folder (delete a stage's folder to redo it).

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
  export    RUN/export/export.json        (the knee point, unless --pick)
  report    RUN/report.html, RUN/report.md (always rewritten)
Timings go to RUN/run.json, with the accelerator, its name and the AMP setting of each stage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from archc.api import parse
from archc.compiler.files import write_text_atomic
from archc.dsl.check import SALIENCY_METRICS
from archc.dsl.spec import Spec
from archc.errors import ArchError

from .accel import accelerator_option, amp_option
from .cluster import cluster_option, open_cluster
from .compile import check_formats
from .output import console, err_console
from .params import WEIGHTS, format_option
from .teacher import allow_weak_teacher_option, check_teacher

# The teacher's recipe for a 15-minute CPU budget: twice NAFNet's peak lr (4e-3 scored the same
# on the synthetic set) and the weights' moving average (benchmarks/train_recipe.py compares them).
TEACHER_LR = 2e-3
TEACHER_EMA = 0.995


def _done(path: Path | None) -> bool:
    if path is None or not path.is_file():
        return False
    if path.name == "latency.json":
        return json.loads(path.read_text()).get("status") == "complete"
    return True


class _Pipeline:
    def __init__(self, ctx: click.Context, out: Path, resume_cmd: str) -> None:
        self.ctx, self.out, self.resume_cmd = ctx, out, resume_cmd
        self.log_path = out / "run.json"
        self.log: dict[str, Any] = json.loads(self.log_path.read_text()) if self.log_path.is_file() else {}
        self.where: dict[str, str] = {}  # the accelerator, its name and the AMP setting each stage ran with

    def stage(self, name: str, marker: Path | None, action: Callable[[], Any]) -> None:
        """Run `action` unless `marker` (None: always run) says the stage is done; a dict it returns
        goes into the stage's run.json entry."""
        if marker is not None and _done(marker):
            console.print(f"[bold]{name}[/bold]: done already ({marker.relative_to(self.out)}), skipped")
            self.log.setdefault(name, {})["skipped_last_run"] = True
            return
        console.rule(f"{name}")
        t0 = time.perf_counter()
        try:
            found = action()
        except (ArchError, click.ClickException, Exception) as exc:
            self._fail(name, exc)
        self.log[name] = {"seconds": round(time.perf_counter() - t0, 2), "status": "complete",
                          "skipped_last_run": False, **self.where, **(found if isinstance(found, dict) else {})}
        write_text_atomic(self.log_path, json.dumps(self.log, indent=1) + "\n")

    def _fail(self, name: str, exc: BaseException) -> None:
        self.log[name] = {"status": "failed", "error": str(exc)}
        write_text_atomic(self.log_path, json.dumps(self.log, indent=1) + "\n")
        if isinstance(exc, ArchError):
            err_console.print(exc.render(), markup=False, highlight=False)
        elif not isinstance(exc, click.ClickException):
            err_console.print(f"{type(exc).__name__}: {exc}", markup=False)
        err_console.print(f"stage `{name}` failed; the results of earlier stages are kept in {self.out}.\n"
                          f"resume with: {self.resume_cmd}", markup=False)
        if self.ctx.obj and self.ctx.obj.get("debug"):
            raise exc
        self.ctx.exit(1)

    def invoke(self, command: click.Command, **kwargs: Any) -> None:
        self.ctx.invoke(command, **kwargs)


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--data", type=click.Path(file_okay=False), help="Dataset (default: build a synthetic blur set).")
@click.option("--weights", type=WEIGHTS, help="Teacher weights (default: train one).")
@click.option("--device", default="cpu", show_default=True, help="Latency device (`archc devices`).")
@click.option("--budget", type=int, help="Networks the search evaluates (default: the spec's, else 40).")
@click.option("--strategy", type=click.Choice(["botorch", "random", "nsga2", "tpe"]), default="botorch",
              show_default=True)
@click.option("--pick", default="knee", show_default=True, help="Network to export: knee, fastest, best-under=MS.")
@click.option("--train-minutes", type=float, default=15.0, show_default=True, help="Teacher training time.")
@click.option("--distill-iters", type=int, default=300, show_default=True, help="Training steps per surrogate.")
@click.option("--distill-fraction", type=float, default=0.25, show_default=True,
              help="Share of the training pairs the surrogates learn from.")
@click.option("--saliency-batches", type=click.IntRange(1), default=4, show_default=True,
              help="Batches the gradient saliency measures average over.")
@click.option("--saliency-metrics", default=",".join(SALIENCY_METRICS), show_default=True,
              help="Comma-separated saliency metrics.")
@click.option("--ablate/--no-ablate", default=True, show_default=True,
              help="Measure each block's PSNR drop when removed (tells which saliency metric to trust).")
@click.option("--jobs", type=int, default=2, show_default=True, help="Parallel surrogate trainings.")
@click.option("--size", nargs=2, type=int, default=(256, 256), show_default=True, help="Profiling input H W.")
@click.option("--val-images", type=int, default=8, show_default=True,
              help="Test images (128 px centre crops) that saliency ablation, distillation and search score.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", default="runs/run", show_default=True, type=click.Path(file_okay=False))
@accelerator_option
@amp_option
@cluster_option
@click.option("--batch", type=click.IntRange(1), default=1, show_default=True,
              help="Networks the search proposes per round and evaluates in parallel.")
@allow_weak_teacher_option
@format_option
@click.pass_context
def run_cmd(ctx: click.Context, spec: str, data: str | None, weights: str | None, device: str, budget: int | None,
            strategy: str, pick: str, train_minutes: float, distill_iters: int, jobs: int, size: tuple[int, int],
            val_images: int, seed: int, out: str, accelerator: str = "auto", amp: str = "off",
            cluster: str = "local", batch: int = 1, allow_weak_teacher: bool = False, distill_fraction: float = 0.25,
            saliency_batches: int = 4, saliency_metrics: str = ",".join(SALIENCY_METRICS), ablate: bool = True,
            formats: tuple[str, ...] = ("onnx",)) -> None:
    """Run the whole method on SPEC: data, teacher, saliency, latency, surrogates, search, export, report.
    Torch stages run on --accelerator; the teacher and the surrogates train with --amp; profiling,
    distillation and the search's rounds run on --cluster (one connection for the whole run)."""
    from archc.runtime.accelerator import describe, resolve
    from archc.runtime.amp import check_amp
    from archc.runtime.guard import VAL_CROP

    from . import data as data_cli
    from . import distill as distill_cli
    from . import profile as profile_cli
    from . import saliency as saliency_cli
    from . import search as search_cli
    from . import train as train_cli
    from .report import write_report

    checked = parse(spec)
    check_formats(formats, "fp32", "minmax")  # a missing runtime package fails before any stage
    connection = open_cluster(cluster, jobs)  # a bad --cluster or a missing Ray fails before any stage
    ctx.call_on_close(lambda: connection.close() if connection is not None else None)
    where = resolve(accelerator)  # an accelerator or precision this machine lacks fails before any stage
    check_amp(amp, where)
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    resume = f"archc run {spec} --out {out}" + (f" --data {data}" if data else "") + (
        f" --weights {weights}" if weights else "") + (f" --device {device}" if device != "cpu" else "") + (
        f" --cluster {cluster}" if cluster != "local" else "") + (" --allow-weak-teacher" if allow_weak_teacher else "")
    resume += f" --format {','.join(formats)}" if formats != ("onnx",) else ""
    p = _Pipeline(ctx, run_dir, resume)
    p.where = describe(where, amp)
    data_dir = Path(data) if data else run_dir / "data"
    teacher = Path(weights) if weights else run_dir / "teacher" / "weights.safetensors"
    if not data:
        p.stage("data", data_dir / "meta.json",
                lambda: p.invoke(data_cli.synth_cmd, out_dir=data_dir, seed=seed, overwrite=True))
    if not weights:
        p.stage("teacher", teacher, lambda: p.invoke(
            train_cli.train_cmd, spec=spec, data=str(data_dir), out=str(teacher.parent), minutes=train_minutes,
            lr=TEACHER_LR, ema=TEACHER_EMA, seed=seed, resume=True, accelerator=accelerator, amp=amp))
    p.stage("teacher check", None, lambda: check_teacher(
        checked, str(teacher), str(data_dir), val_images, VAL_CROP, allow_weak_teacher, accelerator).to_json())
    p.stage("saliency", run_dir / "saliency" / "saliency.json", lambda: p.invoke(
        saliency_cli.saliency_cmd, spec=spec, weights=str(teacher), data=str(data_dir),
        out=str(run_dir / "saliency"), count=saliency_batches, crop=64, metrics=saliency_metrics, ablate=ablate,
        val_images=val_images, val_crop=128,
        seed=seed, accelerator=accelerator, allow_weak_teacher=allow_weak_teacher))
    p.stage("profile", run_dir / "profile" / "latency.json", lambda: p.invoke(
        profile_cli.profile_cmd, spec=spec, device=device, size=size, out=str(run_dir / "profile"), resume=True,
        cluster=cluster))
    p.stage("distill", run_dir / "distill" / "distill.json", lambda: p.invoke(
        distill_cli.distill_cmd, spec=spec, weights=str(teacher), data=str(data_dir), out=str(run_dir / "distill"),
        jobs=jobs, iters=distill_iters, fraction=distill_fraction, val_images=val_images, seed=seed,
        accelerator=accelerator, amp=amp,
        cluster=cluster, allow_weak_teacher=allow_weak_teacher))
    n = budget or (checked.search.budget if checked.search and checked.search.budget else 40)
    p.stage("search", run_dir / "search" / "search.json", lambda: p.invoke(
        search_cli.search_cmd, spec=spec, weights=str(teacher), surrogates=str(run_dir / "distill" / "surrogates"),
        data=str(data_dir), device=device, latency=_latency_file(checked, run_dir), budget=n,
        strategy=strategy, seed=seed, val_images=val_images, out=str(run_dir / "search"),
        saliency=str(run_dir / "saliency") if _needs_saliency(checked) else None, accelerator=accelerator,
        batch=batch, jobs=min(jobs, batch), cluster=cluster, allow_weak_teacher=allow_weak_teacher))
    p.stage("export", run_dir / "export" / "export.json", lambda: p.invoke(
        search_cli.export_cmd, run=str(run_dir / "search"), pick=pick, out=str(run_dir / "export"),
        accelerator=accelerator, formats=formats))
    (run_dir / "report.html").unlink(missing_ok=True)
    p.stage("report", run_dir / "report.html", lambda: write_report(run_dir, checked))
    console.print(f"report: {run_dir / 'report.html'} (and report.md)")


def _latency_file(spec: Spec, run_dir: Path) -> str | None:
    """The profile stage's table, which a search over precision replaces by one table per precision."""
    if spec.search is not None and spec.search.has_precision:
        return None
    return str(run_dir / "profile" / "latency.json")


def _needs_saliency(spec: Any) -> bool:
    return bool(spec.search is not None and spec.search.saliency_rules)
