"""`archc distill`: train a surrogate for every (slot, candidate) of a spec's search space, then
report each one's feature fit and plug-in PSNR drop (RUN/surrogates/, RUN/distill.json)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from archc.api import build, parse

from .accel import accelerator_option, amp_option, where_to_run
from .cluster import check_cluster_option, cluster_option, open_cluster
from .heartbeat import Heartbeat
from .output import console, print_json
from .params import WEIGHTS
from .teacher import allow_weak_teacher_option, check_teacher


class DistillProgress:
    """Rich bars: the teacher's features, every surrogate together, and one bar per running job;
    the latest event also goes to `beat` (the progress line logs get every 30 s)."""

    def __init__(self, bar: Progress, jobs: int, beat: Heartbeat | None = None) -> None:
        self.bar, self.jobs, self.beat, self.done = bar, jobs, beat, 0
        self.total = bar.add_task("surrogates", total=jobs, info="")
        self.features: TaskID | None = None
        self.running: dict[str, TaskID] = {}

    def __call__(self, event: Any) -> None:
        getattr(self, f"_on_{event.kind}")(event)
        self.done += event.kind in ("skip", "done")
        if self.beat is not None:
            self.beat.update(f"{self.done}/{self.jobs} surrogates; last: {_event_text(event)}")

    def _on_features(self, e: Any) -> None:
        if self.features is None:
            self.features = self.bar.add_task("teacher features", total=e.total, info="")
        self.bar.update(self.features, completed=e.step, total=e.total)

    def _on_skip(self, e: Any) -> None:
        self.bar.advance(self.total)

    def _on_start(self, e: Any) -> None:
        if e.job not in self.running:
            self.running[e.job] = self.bar.add_task(f"  {e.job}", total=e.total, info="")

    def _on_step(self, e: Any) -> None:
        self._on_start(e)
        self.bar.update(self.running[e.job], completed=e.step, info=f"loss {e.loss:.3g}")

    def _on_done(self, e: Any) -> None:
        task = self.running.pop(e.job, None)
        if task is not None:
            self.bar.update(task, visible=False)
        self.bar.advance(self.total)
        self.bar.update(self.total, info=f"last: {e.job}")


def _event_text(e: Any) -> str:
    if e.kind == "features":
        return f"teacher features {e.step}/{e.total}"
    loss = f", loss {e.loss:.3g}" if e.loss is not None else ""
    if e.kind == "step":
        return f"{e.job} step {e.step}/{e.total}{loss}"
    return f"{e.job} {e.kind}"


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
    )


def report_table(data: dict[str, Any]) -> Table:
    teacher = data["teacher"]
    title = (
        f"surrogates of {data['spec']}: teacher {teacher['psnr']:.3f} dB on "
        f"{data['validation']['images']} {data['validation']['split']} images"
    )
    table = Table(title=title, title_justify="left")
    for col in ("slot", "candidate", "steps", "fit NMSE", "fit / change", "PSNR", "plug-in drop"):
        table.add_column(col, justify="left" if col in ("slot", "candidate") else "right")
    for r in data["surrogates"]:
        table.add_row(
            r["slot"],
            r["candidate"],
            str(r["steps"]),
            f"{r['fit_nmse']:.2e}",
            f"{r['fit_rel_change']:.3f}",
            f"{r['psnr']:.3f}",
            f"{r['plug_in_drop']:+.3f}",
        )
    return table


def _report(
    checked: Any, weights: str, data: str, run: Path, val_images: int, where: dict[str, str] | None = None
) -> dict[str, Any]:
    import json

    from archc.compiler.weights import load_state
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.distill.bank import load_bank
    from archc.runtime.distill.report import CACHE_FILE, plug_in, report_json, write_report

    bank = load_bank(run / "surrogates")
    val = open_dataset(data, split="test")
    with _progress() as bar, Heartbeat("plug-in PSNR") as beat:
        task = bar.add_task("plug-in PSNR", total=len(bank.entries) + 1, info="")

        def on_done(name: str, psnr: float) -> None:
            bar.update(task, advance=1, info=f"{name}: {psnr:.3f} dB")
            beat.update(f"{bar.tasks[0].completed:.0f}/{len(bank.entries) + 1} networks; last {name}: {psnr:.3f} dB")

        base, rows = plug_in(checked, load_state(weights), bank, val, val_images, run / CACHE_FILE, on_done)
    config = json.loads((run / "distill.config.json").read_text())["config"]
    result = {**report_json(bank, base, rows, val, val_images, config), **(where or {})}
    write_report(run, result)
    return result


@click.command("distill")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=WEIGHTS, help="The teacher's weights.")
@click.option(
    "--data",
    required=True,
    type=click.Path(file_okay=False),
    help="Dataset folder: train split to distill on, test split for the plug-in report.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder (resumed if it exists).")
@click.option("--fraction", type=float, default=0.25, show_default=True, help="Share of the training pairs used.")
@click.option("--slots", "slot_args", multiple=True, help="Only these slots (repeatable or comma-separated).")
@click.option("--jobs", type=int, default=1, show_default=True, help="Surrogates trained in parallel processes.")
@click.option("--iters", type=int, default=400, show_default=True,
              help="Training steps per surrogate (0: plug candidates in as initialised, an ablation).")
@click.option("--batch", type=int, default=8, show_default=True)
@click.option("--crop", type=int, default=64, show_default=True, help="Crop size (a multiple of 2^levels).")
@click.option("--crops-per-image", type=int, default=4, show_default=True, help="Fixed crops per training pair.")
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--granularity",
    type=click.Choice(("slot", "block")),
    default="slot",
    show_default=True,
    help="Multi-block slots: fit the repeated candidate end to end, or each block to its own output.",
)
@click.option(
    "--init",
    "init",
    type=click.Choice(("inherit", "fresh")),
    default="inherit",
    show_default=True,
    help="inherit: a candidate of the original's kind starts from the teacher's matching tensors.",
)
@click.option("--threads", type=int, help="Torch threads per job (default: 1; parallelism comes from --jobs).")
@click.option("--val-images", type=int, default=8, show_default=True, help="Test images for the plug-in report.")
@click.option("--no-report", is_flag=True, help="Skip the plug-in PSNR report.")
@click.option("--json", "as_json", is_flag=True, help="Print distill.json instead of a table.")
@cluster_option
@accelerator_option
@amp_option
@allow_weak_teacher_option
def distill_cmd(
    spec: str,
    weights: str,
    data: str,
    out: str,
    fraction: float,
    slot_args: Sequence[str],
    jobs: int,
    iters: int,
    batch: int,
    crop: int,
    crops_per_image: int,
    lr: float,
    seed: int,
    granularity: str,
    init: str,
    threads: int | None,
    val_images: int,
    no_report: bool,
    as_json: bool,
    cluster: str,
    accelerator: str = "auto",
    amp: str = "off",
    allow_weak_teacher: bool = False,
) -> None:
    """Distill a surrogate for every (slot, candidate) of SPEC's search space from the frozen teacher
    WEIGHTS: the candidate learns to map the teacher's features at the slot's input to those at its
    output (loss: squared error over the teacher output's energy), on a seeded --fraction of the
    training pairs. Writes OUT/surrogates/ (one safetensors per surrogate + manifest.json) and
    OUT/distill.json (fit and plug-in PSNR drop of each). Rerun with the same settings to resume."""
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.distill import DistillConfig, distill, plan_jobs
    from archc.runtime.evaluation.guard import VAL_CROP

    name, record = where_to_run(accelerator, amp, cluster)  # before any work
    checked = parse(spec)
    slots = [s.strip() for arg in slot_args for s in arg.split(",") if s.strip()] or None
    cfg = DistillConfig(
        fraction=fraction,
        iters=iters,
        batch=batch,
        crop=crop,
        crops_per_image=crops_per_image,
        lr=lr,
        seed=seed,
        granularity=granularity,
        init=init,
        jobs=jobs,
        threads=threads,
        accelerator=name,
        amp=amp,
    ).check()
    todo = plan_jobs(checked, slots, granularity)
    check_cluster_option(cluster)
    check_teacher(checked, weights, data, val_images, VAL_CROP, allow_weak_teacher, accelerator)
    executor = open_cluster(cluster, jobs, threads or 1)
    try:
        teacher = build(checked, weights=weights)
        pairs = open_dataset(data, split="train")
        with _progress() as bar, Heartbeat("distill") as beat:
            progress = DistillProgress(bar, len(todo), beat)
            run = distill(checked, teacher, weights, pairs, out, cfg, slots, progress, executor)
    finally:
        if executor is not None:
            executor.close()
    if not as_json:
        console.print(
            f"{len(run.trained)} surrogates trained, {len(run.reused)} reused, in {run.seconds:.0f} s; "
            f"bank: {run.bank.root} ({len(run.bank.entries)} entries)"
        )
    if no_report:
        return
    result = _report(checked, weights, data, Path(out), val_images, record)
    if as_json:
        print_json(result)
        return
    console.print(report_table(result))
    means = ", ".join(f"{k} {v:+.3f} dB" for k, v in result["mean_drop_by_candidate"].items())
    console.print(f"mean plug-in drop by candidate: {means}")
    console.print(f"wrote {Path(out) / 'distill.json'}")
