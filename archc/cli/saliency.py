"""`archc saliency`: block and slot saliency of trained weights, optionally checked by ablation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archc.api import build, parse
from archc.dsl.check import SALIENCY_METRICS
from archc.dsl.spec import Spec
from archc.errors import SaliencyError
from archc.runtime.data.datasets import open_dataset
from archc.runtime.saliency import probe, report
from archc.runtime.saliency.ablate import ablate as ablate_units
from archc.runtime.saliency.measures import check_names
from archc.runtime.saliency.resolve import resolve_data
from archc.runtime.saliency.score import check_trained, compute_saliency
from archc.runtime.saliency.units import block_units, slot_units

from .accel import accelerator_option
from .heartbeat import Heartbeat
from .output import console, human
from .params import WEIGHTS
from .teacher import allow_weak_teacher_option, check_teacher

PHASES = {"first_order": "gradients", "grasp": "grasp (H g)", "synflow": "synflow", "ablation": "ablation"}


def fmt_score(x: float | None, flag: str | None = None) -> str:
    """A score for the terminal: 3 significant digits; "nan" / "inf" for non-finite ones."""
    if x is None:
        return flag or "-"
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.3g}"


def _entry_value(entry: Mapping[str, Any], metric: str, norm: str = "sum") -> str:
    return fmt_score(entry["scores"][metric][norm], entry.get("nonfinite", {}).get(f"{metric}.{norm}"))


def _units_table(
    title: str, entries: Sequence[Mapping[str, Any]], metrics: Sequence[str], ablated: bool, marks: Mapping[str, str]
) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("unit", "block", "params", "MACs", *metrics, *(("drop dB",) if ablated else ()), "note"):
        table.add_column(col, justify="left" if col in ("unit", "block", "note") else "right")
    for e in entries:
        drop = [fmt_score(e.get("drop"), e.get("nonfinite", {}).get("drop"))] if ablated else []
        note = "; ".join(filter(None, [marks.get(e["name"], ""), *e["notes"]]))
        table.add_row(
            e["name"],
            e["block"],
            human(e["params"]),
            human(e["macs"]),
            *(_entry_value(e, m) for m in metrics),
            *drop,
            note,
        )
    return table


def _spearman_table(ablation: Mapping[str, Any]) -> Table:
    table = Table(
        title=f"Spearman rho with the PSNR drop (base {ablation['base_psnr']:.3f} dB, {ablation['images']} images)",
        title_justify="left",
    )
    for col in ("metric", "blocks: sum", "per_param", "rank", "slots: sum", "per_param", "rank"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    by_kind = ablation["spearman"]
    for metric in by_kind["blocks"]:
        cells = []
        for kind in ("blocks", "slots"):
            for norm in ("sum", "per_param", "rank"):
                c = by_kind[kind][metric].get(norm)
                cells.append("" if c is None else fmt_score(c["rho"], c.get("nonfinite")))
        table.add_row(metric, *cells)
    return table


def _status(data: Mapping[str, Any], saliency_marks: Mapping[str, str]) -> dict[str, str]:
    marks = {e["name"]: "excluded: exclude SLOT" for e in data["slots"] if not e.get("searchable", True)}
    return marks | {name: f"excluded: {why}" for name, why in saliency_marks.items()}


def _metrics(text: str) -> tuple[str, ...]:
    return check_names([m.strip() for m in text.split(",") if m.strip()])


def _check_crop(crop: int, levels: int) -> None:
    if crop % 2**levels:
        raise SaliencyError(
            f"--crop {crop} is not a multiple of {2**levels}",
            code="E1002",
            help=f"the network pads inputs to multiples of {2**levels}; use e.g. "
            f"--crop {max(2**levels, crop - crop % 2**levels)}",
        )


def _resolved_marks(spec: Spec, data: Mapping[str, Any], out: Path) -> dict[str, str]:
    try:
        resolution = resolve_data(spec, data, out / "saliency.json")
    except SaliencyError as exc:
        console.print(f"[yellow]cannot resolve the spec's `exclude top K` lines: {exc}[/yellow]")
        return {}
    return {name: why for name in resolution.excluded if (why := resolution.reason(name)) is not None}


@click.command("saliency")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=WEIGHTS, help="Trained weights to score.")
@click.option("--data", required=True, type=click.Path(file_okay=False), help="Dataset folder.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder for saliency.json/.png.")
@click.option(
    "--batches",
    "count",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="K: batches the gradient measures average over.",
)
@click.option("--batch", type=click.IntRange(1), default=4, show_default=True, help="Crops per batch.")
@click.option("--crop", type=click.IntRange(16), default=256, show_default=True, help="Square training crop side.")
@click.option("--metrics", default=",".join(SALIENCY_METRICS), show_default=True, help="Comma-separated metrics.")
@click.option(
    "--loss",
    type=click.Choice(list(probe.LOSSES)),
    default="psnr",
    show_default=True,
    help="The loss the weights were trained with.",
)
@click.option("--split", default="train", show_default=True, help="Split the crops come from.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--ablate", is_flag=True, help="Also measure the PSNR drop of removing each block and slot.")
@click.option(
    "--val-images",
    type=click.IntRange(1),
    default=16,
    show_default=True,
    help="Validation (test split) images for --ablate.",
)
@click.option(
    "--val-crop",
    type=click.IntRange(0),
    default=256,
    show_default=True,
    help="Centre crop of each validation image (0: whole images).",
)
@accelerator_option
@click.option("--device", hidden=True, help="Former name of --accelerator.")
@allow_weak_teacher_option
def saliency_cmd(
    spec: str,
    weights: str,
    data: str,
    out: str,
    count: int,
    batch: int,
    crop: int,
    metrics: str,
    loss: str,
    split: str,
    seed: int,
    ablate: bool,
    val_images: int,
    val_crop: int,
    accelerator: str = "auto",
    device: str | None = None,
    allow_weak_teacher: bool = False,
) -> None:
    """Score every block and slot of SPEC with WEIGHTS; writes OUT/saliency.json and OUT/saliency.png."""
    from archc.runtime.accel.accelerator import describe, resolve
    from archc.runtime.saliency.plot import plot  # matplotlib: imported only when drawing

    where = resolve(device or accelerator)
    checked = parse(spec)
    names = _metrics(metrics)
    _check_crop(crop, checked.levels)
    check_teacher(checked, weights, data, val_images, val_crop or None, allow_weak_teacher, str(where))
    model = build(checked, weights=weights)
    check_trained(checked, model)  # before reading any training data
    batches = probe.train_batches(open_dataset(data, split=split), count, batch, crop, seed)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar, Heartbeat("saliency") as beat:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done)
            beat.update(f"{PHASES.get(phase, phase)} {done}/{total}")

        result = compute_saliency(
            checked, model, batches, metrics=names, loss=loss, device=str(where), progress=progress
        )
        abl = None
        if ablate:
            images = probe.val_images(open_dataset(data, split="test"), val_images, val_crop or None)
            units = (*block_units(checked, model), *slot_units(checked, model))
            abl = ablate_units(
                model, units, images, batch=batch, device=str(where), progress=lambda d, t: progress("ablation", d, t)
            )
    info = report.RunInfo(weights=str(weights), data=str(data), split=split, seed=seed, val_crop=val_crop or None)
    doc = {**report.to_json(checked, result, info, abl), **describe(where)}
    run = Path(out)
    report.write(run / "saliency.json", doc)
    marks = _resolved_marks(checked, doc, run)
    plot(doc, run / "saliency.png", tuple(marks))
    _print(doc, names, _status(doc, marks), run)


def _print(doc: Mapping[str, Any], names: Sequence[str], marks: Mapping[str, str], run: Path) -> None:
    ablated = doc["ablation"] is not None
    d = doc["data"]
    console.print(
        f"{doc['spec']['name']}: {len(doc['blocks'])} blocks, {len(doc['slots'])} slots; "
        f"{d['batches']} batches of {d['batch']} crops {d['crop']}x{d['crop']}, loss {d['loss']}"
    )
    console.print(_units_table("slots (sum)", doc["slots"], names, ablated, marks))
    console.print(_units_table("blocks (sum)", doc["blocks"], names, ablated, {}))
    if ablated:
        console.print(_spearman_table(doc["ablation"]))
    for note in doc["notes"]:
        console.print(f"note: {note}")
    timing = ", ".join(f"{PHASES.get(k, k)} {v:.1f} s" for k, v in doc["seconds"].items())
    console.print(f"time: {timing}")
    console.print(f"wrote {run / 'saliency.json'} and {run / 'saliency.png'}")
