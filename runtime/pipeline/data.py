"""The data stage: a synthetic GoPro-layout blur set (`runtime.data.synth`), with its progress."""

from __future__ import annotations

from pathlib import Path

from attrs import frozen
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archc.runtime.data.synth import DEFAULT_TEST_PHOTOS, SynthSummary, synthesize

from .context import Context
from .heartbeat import Heartbeat
from .layout import folder


@frozen
class DataSettings:
    """`out`: the folder to create (default RUN/data); `images`: source photographs in all, test
    ones included; crops are `crop` px squares, `crops_per_image` per training photograph and
    `test_crops_per_image` per test one; `overwrite` replaces a set written before."""

    out: str | None = None
    images: int = 11
    seed: int = 0
    crop: int = 256
    crops_per_image: int = 48
    test_crops_per_image: int = 8
    test_photos: tuple[str, ...] = DEFAULT_TEST_PHOTOS
    overwrite: bool = False


def data(run_dir: Path, settings: DataSettings, ctx: Context) -> SynthSummary:
    """Write the synthetic blur set to RUN/data (or `settings.out`); returns its summary."""
    s = settings
    with _progress_bar(ctx) as bar, Heartbeat("data synth", console=ctx.console) as beat:
        task = bar.add_task("synthesising", total=None)

        def advance(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)
            beat.update(f"{label} {done}/{total}")

        return synthesize(
            folder(run_dir, s.out, "data"),
            s.images,
            s.seed,
            test_photos=s.test_photos,
            crop=s.crop,
            crops_per_image=s.crops_per_image,
            test_crops_per_image=s.test_crops_per_image,
            overwrite=s.overwrite,
            progress=advance,
        )


def _progress_bar(ctx: Context) -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=ctx.console,
        transient=True,
    )
