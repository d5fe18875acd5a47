"""The train stage (the run's teacher): NAFNet's recipe on a dataset's train split, with its
progress bar and a line every 30 s in logs."""

from __future__ import annotations

from pathlib import Path

from attrs import frozen
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from archc.compiler.choice import canonical_choice
from archc.compiler.frontend import choice_of, parse
from archc.compiler.ir import to_ir

from .context import Context
from .layout import dataset, folder

# The teacher's recipe for a 15-minute CPU budget: twice NAFNet's peak lr (4e-3 scored the same
# on the synthetic set) and the weights' moving average (benchmarks/train_recipe.py compares them).
TEACHER_LR = 2e-3
TEACHER_EMA = 0.995


@frozen
class TrainSettings:
    """Train `spec` for exactly one of `iters` steps or `minutes` of wall time (the cosine schedule
    follows it) on `data` (default RUN/data), into `out` (default RUN/teacher); `choice` is
    SLOT=BLOCK;..., `weights` the starting point, `resume` continues from OUT/checkpoint.pt."""

    spec: str
    data: str | None = None
    out: str | None = None
    iters: int | None = None
    minutes: float | None = None
    choice: str | None = None
    weights: str | None = None
    batch: int = 16
    crop: int = 96
    lr: float = 1e-3
    warmup: float = 0.0
    ema: float = 0.0
    seed: int = 0
    resume: bool = False
    workers: int | None = None


def train(run_dir: Path, settings: TrainSettings, ctx: Context) -> Path:
    """Train into RUN/teacher (or `settings.out`); returns the weights file."""
    import torch

    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.network.build import build
    from archc.runtime.training.train import TrainConfig
    from archc.runtime.training.train import train as fit

    s = settings
    if (s.iters is None) == (s.minutes is None):
        raise ValueError("give exactly one of iters and minutes")
    checked = parse(s.spec)
    choice = choice_of(checked, s.choice)
    torch.manual_seed(s.seed)  # the initial weights too follow the seed
    model = build(checked, choice, s.weights)
    pairs = open_dataset(dataset(run_dir, s.data), split="train")
    cfg = TrainConfig(
        iters=s.iters,
        minutes=s.minutes,
        batch=s.batch,
        crop=s.crop,
        lr=s.lr,
        warmup=s.warmup,
        ema=s.ema,
        seed=s.seed,
        accelerator=ctx.accelerator,
        amp=ctx.amp,
        workers=s.workers,
    )
    meta = {"spec": checked.text, "spec_path": checked.path, "choice": canonical_choice(checked, choice)}
    total = s.iters if s.iters is not None else int(s.minutes * 60)  # type: ignore[operator]
    with Progress(
        TextColumn("train"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=ctx.console
    ) as bar:
        task = bar.add_task("train", total=total, info="")
        result = fit(
            model,
            pairs,
            folder(run_dir, s.out, "teacher"),
            cfg,
            resume=s.resume,
            metadata=meta,
            on_step=_on_step(ctx, bar, task, s.iters is not None),
            graph=to_ir(checked, choice),
        )
    ctx.say(f"{result.steps} steps in {result.seconds:.0f} s; weights: {result.weights}")
    return Path(result.weights)


def _on_step(ctx: Context, bar: Progress, task: object, by_steps: bool):  # type: ignore[no-untyped-def]
    last = [0.0]

    def on_step(r: dict[str, float]) -> None:
        done = r["step"] if by_steps else r["elapsed"]
        info = f"step {int(r['step'])} loss {r['loss']:.2f} PSNR {r['psnr']:.2f} dB {r['images_per_s']:.1f} img/s"
        bar.update(task, completed=done, info=info)  # type: ignore[arg-type]
        if not ctx.console.is_terminal and r["elapsed"] - last[0] >= 30:  # logs get a line every 30 s
            last[0] = r["elapsed"]
            ctx.say(f"train {r['elapsed']:.0f} s: {info}")

    return on_step
