"""`RUN/saliency.png`: per-slot scores, one panel per metric (plus the measured drop).

Bars are the slots' `sum` scores in network order, drawn on the axis scale the file records
for the metric (log10 or symlog where the values span decades). Slots fixed by a static
`exclude SLOT` line are grey and hatched; slots excluded by a resolved `exclude top K by METRIC`
rule are red; non-finite scores are written on the axis as "nan" / "inf" instead of a bar.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from archc.compiler.files import write_png_atomic  # noqa: E402

from .report import read_number, unit_score  # noqa: E402

COLOURS = {"searchable": "#4878a8", "static": "#b0b0b0", "saliency": "#d04a3a"}


def _status(entry: Mapping[str, Any], saliency_excluded: Sequence[str]) -> str:
    if not entry.get("searchable", True):
        return "static"
    return "saliency" if entry["name"] in saliency_excluded else "searchable"


def _scale(ax: Axes, scale: str, values: Sequence[float]) -> None:
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if scale == "log10" and finite:
        ax.set_yscale("log")
    elif scale == "symlog" and finite:
        ax.set_yscale("symlog", linthresh=min(finite))


def _panel(ax: Axes, title: str, values: Sequence[float], status: Sequence[str], scale: str) -> None:
    xs = range(len(values))
    heights = [v if math.isfinite(v) else 0.0 for v in values]
    if scale == "log10":  # a zero bar cannot be drawn on a log axis
        heights = [h if h > 0 else math.nan for h in heights]
    ax.bar(xs, heights, color=[COLOURS[s] for s in status], edgecolor="black", linewidth=0.4)
    for x, s in zip(xs, status, strict=True):
        if s == "static":
            ax.patches[x].set_hatch("//")
    for x, v in zip(xs, values, strict=True):
        if not math.isfinite(v):
            ax.annotate(
                "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"),
                (x, 0.5),
                xycoords=("data", "axes fraction"),
                ha="center",
                color="crimson",
                fontsize=8,
            )
    _scale(ax, scale, values)
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="y", labelsize=7)


def _panels(data: Mapping[str, Any]) -> list[tuple[str, list[float], str]]:
    slots = data["slots"]
    out = [
        (f"{m} ({info['scale']})" if info["scale"] != "linear" else m, [unit_score(e, m) for e in slots], info["scale"])
        for m, info in data["metrics"].items()
    ]
    if data.get("ablation") is not None:
        drops = [read_number(e.get("drop"), e.get("nonfinite", {}).get("drop")) for e in slots]
        out.append(("PSNR drop when removed (dB)", drops, "linear"))
    return out


def plot(data: Mapping[str, Any], path: str | Path, saliency_excluded: Sequence[str] = ()) -> None:
    """Draw the slots of a saliency.json object to `path` (PNG), marking exclusions."""
    slots = data["slots"]
    names = [e["name"] for e in slots]
    status = [_status(e, saliency_excluded) for e in slots]
    panels = _panels(data)
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows + 0.8), squeeze=False, layout="constrained")
    for ax, (title, values, scale) in zip(axes.flat, panels, strict=False):
        _panel(ax, title, values, status, scale)
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    legend = [
        Patch(facecolor=COLOURS["searchable"], label="searchable"),
        Patch(facecolor=COLOURS["static"], hatch="//", label="excluded (exclude SLOT)"),
        Patch(facecolor=COLOURS["saliency"], label="excluded (exclude top K by METRIC)"),
    ]
    fig.suptitle(f"slot saliency of {data['spec']['name']} (sum over each slot's blocks)", fontsize=10)
    fig.legend(handles=legend, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    write_png_atomic(path, fig, dpi=110)
