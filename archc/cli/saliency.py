"""`archc saliency`: block and slot saliency of trained weights, optionally checked by ablation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archc.runtime.pipeline.saliency import PHASES
from archc.runtime.saliency.probe import LOSSES

from .options import (
    accelerator_option,
    allow_weak_teacher_option,
    context,
    data_option,
    metrics_option,
    names,
    seed_option,
    spec_argument,
    val_images_option,
    weights_option,
)
from .output import console, human


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


@click.command("saliency")
@spec_argument
@weights_option(text="Trained weights to score.")
@data_option("Dataset folder.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder for saliency.json/.png.")
@click.option("--batches", "count", type=click.IntRange(1), default=8, show_default=True,
              help="K: batches the gradient measures average over.")
@click.option("--batch", type=click.IntRange(1), default=4, show_default=True, help="Crops per batch.")
@click.option("--crop", type=click.IntRange(16), default=256, show_default=True, help="Square training crop side.")
@metrics_option("--metrics", "Comma-separated metrics.")
@click.option("--loss", type=click.Choice(list(LOSSES)), default="psnr", show_default=True,
              help="The loss the weights were trained with.")
@click.option("--split", default="train", show_default=True, help="Split the crops come from.")
@seed_option
@click.option("--ablate", is_flag=True, help="Also measure the PSNR drop of removing each block and slot.")
@val_images_option(16, "Validation (test split) images for --ablate.")
@click.option("--val-crop", type=click.IntRange(0), default=256, show_default=True,
              help="Centre crop of each validation image (0: whole images).")
@accelerator_option
@click.option("--device", hidden=True, help="Former name of --accelerator.")
@allow_weak_teacher_option
def saliency_cmd(spec: str, weights: str, data: str, out: str, count: int, batch: int, crop: int, metrics: str,
                 loss: str, split: str, seed: int, ablate: bool, val_images: int, val_crop: int,
                 accelerator: str = "auto", device: str | None = None, allow_weak_teacher: bool = False) -> None:
    """Score every block and slot of SPEC with WEIGHTS; writes OUT/saliency.json and OUT/saliency.png."""
    from archc.runtime.pipeline import SaliencySettings, saliency

    settings = SaliencySettings(spec, weights, data, out, count, batch, crop, names(metrics), loss, split, seed,
                                ablate, val_images, val_crop)
    result = saliency(Path(out), settings, context(device or accelerator, allow_weak_teacher=allow_weak_teacher))
    print_saliency(result)


def print_saliency(result: Any) -> None:
    """The tables of a saliency stage's result (`runtime.pipeline.SaliencyResult`)."""
    _print(result.doc, tuple(result.doc["metrics"]), _status(result.doc, result.marks), result.out)


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
