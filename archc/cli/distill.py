"""`archc distill`: train a surrogate for every (slot, candidate) of a spec's search space, then
report each one's feature fit and plug-in PSNR drop (RUN/surrogates/, RUN/distill.json)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from .options import (
    accelerator_option,
    allow_weak_teacher_option,
    amp_option,
    cluster_option,
    context,
    data_option,
    json_option,
    names,
    seed_option,
    spec_argument,
    weights_option,
)
from .output import console, print_json


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


@click.command("distill")
@spec_argument
@weights_option()
@data_option("Dataset folder: train split to distill on, test split for the plug-in report.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder (resumed if it exists).")
@click.option("--fraction", type=float, default=0.25, show_default=True, help="Share of the training pairs used.")
@click.option("--slots", "slot_args", multiple=True, help="Only these slots (repeatable or comma-separated).")
@click.option("--jobs", type=int, default=1, show_default=True, help="Surrogates trained in parallel processes.")
@click.option("--iters", type=int, default=600, show_default=True,
              help="Training steps per surrogate (0: plug candidates in as initialised, an ablation).")
@click.option("--batch", type=int, default=8, show_default=True, help="Cached feature crops per training step.")
@click.option("--crop", type=int, default=64, show_default=True, help="Crop size (a multiple of 2^levels).")
@click.option("--crops-per-image", type=int, default=4, show_default=True, help="Fixed crops per training pair.")
@click.option("--lr", type=float, default=1e-2, show_default=True, help="Peak learning rate (cosine schedule).")
@seed_option
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
@json_option("Print distill.json instead of a table.")
@cluster_option
@accelerator_option
@amp_option
@allow_weak_teacher_option
def distill_cmd(spec: str, weights: str, data: str, out: str, fraction: float, slot_args: Sequence[str], jobs: int,
                iters: int, batch: int, crop: int, crops_per_image: int, lr: float, seed: int, granularity: str,
                init: str, threads: int | None, val_images: int, no_report: bool, as_json: bool, cluster: str,
                accelerator: str = "auto", amp: str = "off", allow_weak_teacher: bool = False) -> None:
    """Distill a surrogate for every (slot, candidate) of SPEC's search space from the frozen teacher
    WEIGHTS: the candidate learns to map the teacher's features at the slot's input to those at its
    output (loss: squared error over the teacher output's energy), on a seeded --fraction of the
    training pairs. Writes OUT/surrogates/ (one safetensors per surrogate + manifest.json) and
    OUT/distill.json (fit and plug-in PSNR drop of each). Rerun with the same settings to resume."""
    from archc.runtime.distill import DistillConfig
    from archc.runtime.pipeline import DistillSettings, distill

    slots = tuple(s for arg in slot_args for s in names(arg)) or None
    config = DistillConfig(fraction=fraction, iters=iters, batch=batch, crop=crop, crops_per_image=crops_per_image,
                           lr=lr, seed=seed, granularity=granularity, init=init, jobs=jobs, threads=threads)
    settings = DistillSettings(spec, weights, data, out, config, slots, val_images, not no_report)
    with context(accelerator, amp, cluster, jobs, allow_weak_teacher, as_json) as ctx:
        result = distill(Path(out), settings, ctx)
    if not as_json:
        print_distill(result)
    elif result.report is not None:
        print_json(result.report)


def print_distill(result: Any) -> None:
    """The lines and table of a distill stage's result (`runtime.pipeline.DistillResult`)."""
    run = result.run
    console.print(f"{len(run.trained)} surrogates trained, {len(run.reused)} reused, in {run.seconds:.0f} s; "
                  f"bank: {run.bank.root} ({len(run.bank.entries)} entries)")
    if result.report is None:
        return
    console.print(report_table(result.report))
    means = ", ".join(f"{k} {v:+.3f} dB" for k, v in result.report["mean_drop_by_candidate"].items())
    console.print(f"mean plug-in drop by candidate: {means}")
    console.print(f"wrote {result.out / 'distill.json'}")
