"""`archc data`: dataset tools. `archc data synth` writes a synthetic GoPro-layout blur set."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from archc.runtime.data.photos import photo_names
from archc.runtime.data.synth import DEFAULT_TEST_PHOTOS, SynthSummary

from .options import names
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
    from archc.runtime.pipeline import Context, DataSettings, data

    settings = DataSettings(
        str(out_dir), images, seed, crop, crops_per_image, test_crops_per_image, names(test_photos), overwrite
    )
    print_summary(data(out_dir, settings, Context(console=console)))


def print_summary(summary: SynthSummary) -> None:
    console.print(_summary_table(summary))
    console.print(f"wrote {summary.out_dir} (meta.json: seed, sources, kernels, PSNR) in {summary.seconds:.1f} s")


def _summary_table(summary: SynthSummary) -> Table:
    table = Table(title="synthetic blur set", title_justify="left")
    for col in ("split", "pairs", "blurred PSNR (dB)", "photographs"):
        table.add_column(col)
    for split, pairs in summary.pairs.items():
        table.add_row(split, str(pairs), f"{summary.mean_psnr[split]:.2f}", ", ".join(summary.sources[split]))
    return table
