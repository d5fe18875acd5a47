"""`archc data`: dataset tools. `archc data synth` writes a synthetic GoPro-layout blur set."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archc.runtime.data.photos import photo_names
from archc.runtime.data.synth import DEFAULT_TEST_PHOTOS, SynthSummary, synthesize

from .heartbeat import Heartbeat
from .output import console


@click.group("data")
def data_cmd() -> None:
    """Dataset tools: build a synthetic blur set offline."""


@data_cmd.command("synth")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to create (GoPro layout: train|test/<scene>/blur|sharp/*.png).",
)
@click.option(
    "--images",
    default=11,
    show_default=True,
    type=click.IntRange(2, len(photo_names())),
    help="Source photographs in all, test ones included.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of every random draw (training photographs, crops, kernels, noise).",
)
@click.option(
    "--crop", default=256, show_default=True, type=click.IntRange(16), help="Side of the square crops, in pixels."
)
@click.option(
    "--crops-per-image",
    default=48,
    show_default=True,
    type=click.IntRange(1),
    help="Crops (pairs) cut from each training photograph.",
)
@click.option(
    "--test-crops-per-image",
    default=8,
    show_default=True,
    type=click.IntRange(1),
    help="Crops (pairs) cut from each test photograph.",
)
@click.option(
    "--test-photos",
    default=",".join(DEFAULT_TEST_PHOTOS),
    show_default=True,
    help=f"Comma-separated photographs held out for the test split; choose from {', '.join(photo_names())}.",
)
@click.option("--overwrite", is_flag=True, help="Replace a set that `archc data synth` wrote before.")
def synth_cmd(
    out_dir: Path,
    images: int,
    seed: int,
    crop: int,
    crops_per_image: int,
    test_crops_per_image: int,
    test_photos: str,
    overwrite: bool,
) -> None:
    """Write a synthetic motion-blur dataset built from photographs that installed packages ship."""
    names = tuple(n.strip() for n in test_photos.split(",") if n.strip())
    with _progress_bar() as bar, Heartbeat("data synth") as beat:
        task = bar.add_task("synthesising", total=None)

        def advance(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)
            beat.update(f"{label} {done}/{total}")

        summary = synthesize(
            out_dir,
            images,
            seed,
            test_photos=names,
            crop=crop,
            crops_per_image=crops_per_image,
            test_crops_per_image=test_crops_per_image,
            overwrite=overwrite,
            progress=advance,
        )
    console.print(_summary_table(summary))
    console.print(f"wrote {summary.out_dir} (meta.json: seed, sources, kernels, PSNR) in {summary.seconds:.1f} s")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _summary_table(summary: SynthSummary) -> Table:
    table = Table(title="synthetic blur set", title_justify="left")
    for col in ("split", "pairs", "blurred PSNR (dB)", "photographs"):
        table.add_column(col)
    for split, pairs in summary.pairs.items():
        table.add_row(split, str(pairs), f"{summary.mean_psnr[split]:.2f}", ", ".join(summary.sources[split]))
    return table
