"""The distill stage: a surrogate for every (slot, candidate) of a spec's search space, then each
one's feature fit and plug-in PSNR drop (OUT/surrogates/, OUT/distill.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from attrs import frozen
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from archc.compiler.frontend import parse
from archc.runtime.distill.config import DistillConfig

from .context import Context
from .heartbeat import Heartbeat
from .layout import dataset, folder, teacher_weights


@frozen
class DistillSettings:
    """Distill `spec`'s surrogates from the frozen teacher `weights` (default RUN/teacher's) on
    `data`'s training pairs into `out` (default RUN/distill) as `config` says (`DistillConfig`:
    fraction, steps, crops, seed, jobs and threads; the accelerator and AMP are the context's);
    `slots` limits them (None: every slot); `report` scores each plugged into the teacher on
    `val_images` test images."""

    spec: str
    weights: str | None = None
    data: str | None = None
    out: str | None = None
    config: DistillConfig = DistillConfig()
    slots: tuple[str, ...] | None = None
    val_images: int = 8
    report: bool = True


@frozen
class DistillResult:
    """The trained bank (`runtime.distill.run.DistillRun`) and distill.json's content (None without
    the report)."""

    run: Any
    report: dict[str, Any] | None
    out: Path


def distill(run_dir: Path, settings: DistillSettings, ctx: Context) -> DistillResult:
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.distill import distill as train_bank
    from archc.runtime.distill import plan_jobs
    from archc.runtime.evaluation.guard import VAL_CROP
    from archc.runtime.network.build import build

    s = settings
    name, record = ctx.where_to_run(ctx.amp)  # before any work
    weights, data = teacher_weights(run_dir, s.weights), dataset(run_dir, s.data)
    out = folder(run_dir, s.out, "distill")
    checked = parse(s.spec)
    cfg = attrs.evolve(s.config, accelerator=name, amp=ctx.amp).check()
    slots = list(s.slots) if s.slots else None
    todo = plan_jobs(checked, slots, cfg.granularity)
    ctx.check_teacher(checked, weights, data, s.val_images, VAL_CROP)
    executor = ctx.executor(cfg.jobs, cfg.threads or 1)
    teacher = build(checked, weights=weights)
    pairs = open_dataset(data, split="train")
    with _progress(ctx) as bar, Heartbeat("distill", console=ctx.console) as beat:
        run = train_bank(
            checked, teacher, weights, pairs, out, cfg, slots, DistillProgress(bar, len(todo), beat), executor
        )
    report = _report(checked, weights, data, out, s.val_images, record, ctx) if s.report else None
    return DistillResult(run, report, out)


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


def _progress(ctx: Context) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=ctx.console,
    )


def _report(
    checked: Any, weights: str, data: str, run: Path, val_images: int, where: dict[str, str], ctx: Context
) -> dict[str, Any]:
    import json

    from archc.compiler.weights import load_state
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.distill.bank import load_bank
    from archc.runtime.distill.report import CACHE_FILE, plug_in, report_json, write_report

    bank = load_bank(run / "surrogates")
    val = open_dataset(data, split="test")
    with _progress(ctx) as bar, Heartbeat("plug-in PSNR", console=ctx.console) as beat:
        task = bar.add_task("plug-in PSNR", total=len(bank.entries) + 1, info="")

        def on_done(name: str, psnr: float) -> None:
            bar.update(task, advance=1, info=f"{name}: {psnr:.3f} dB")
            beat.update(f"{bar.tasks[0].completed:.0f}/{len(bank.entries) + 1} networks; last {name}: {psnr:.3f} dB")

        base, rows = plug_in(checked, load_state(weights), bank, val, val_images, run / CACHE_FILE, on_done)
    config = json.loads((run / "distill.config.json").read_text())["config"]
    result = {**report_json(bank, base, rows, val, val_images, config), **where}
    write_report(run, result)
    return result
