"""Search results: `search.json` (evaluations, Pareto set, hypervolume trace, knee, picks under
budgets) and the PNG of the front.

search.json fields:
- `spec`, `spec_text`, `teacher`, `surrogates`, `device`, `latency_source` ("measured" | "modelled"
  | "predicted from measured block table"), `strategy`, `seed`, `budget`;
- `reference_point`: {psnr_drop, latency_ms} used for every hypervolume (minimisation terms);
- `baseline`: the evaluation of the original network (every slot at its original block);
- `evaluations`: every evaluation in order (canonical, indices, choice, objectives, seconds);
- `pareto`: positions (into `evaluations`) of the Pareto set, fastest first;
- `hypervolume_trace`: hypervolume after each evaluation;
- `knee`: position of the knee point (rule in `pareto.py`); `fastest`: the lowest-latency point;
- `best_under`: {budget ms: position of the smallest drop within it, or null};
- `speedup_within`: {drop dB (0.1, 0.2, 0.3, 0.5): {index, speedup, psnr_drop} of the fastest network
  within that drop, its speed-up over the baseline, or null};
- `initial_design`: whether the search had the additive prediction, notes (e.g. why it fell back
  to a random design), the prediction's front and its correlation with the scored drops; each
  evaluation carries its `origin` and, with a prediction, its `additive` (drop, latency).
- `beats_teacher`: {position: {gain_db, noise_db, reason}} for every network scoring better than the
  teacher by more than the validation noise (rule in `flags.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .flags import flagged
from .journal import Evaluation
from .pareto import best_under, front_indices, hypervolume_2d, knee, speedup_within

DROPS_REPORTED = (0.1, 0.2, 0.3, 0.5)  # dB: the best speed-up within each is reported


def points(history: Sequence[Evaluation]) -> np.ndarray:
    return np.array([[e.psnr_drop, e.latency_ms] for e in history], dtype=float).reshape(-1, 2)


def default_reference(history: Sequence[Evaluation], baseline: Evaluation | None) -> list[float]:
    """PSNR drop: 1.1 x the worst seen (>= 0.1 dB); latency: the baseline's (or the slowest seen)."""
    pts = points(history)
    lat = baseline.latency_ms if baseline is not None else float(pts[:, 1].max())
    return [max(0.1, 1.1 * float(pts[:, 0].max())), lat]


def hv_trace(history: Sequence[Evaluation], ref: Sequence[float]) -> list[float]:
    pts = points(history)
    return [hypervolume_2d(pts[: i + 1], ref) for i in range(len(pts))]


def summarise(history: Sequence[Evaluation], ref: Sequence[float], budgets: Sequence[float],
              baseline: Evaluation | None) -> dict[str, Any]:
    pts = points(history)
    front = front_indices(pts)
    return {
        "reference_point": {"psnr_drop": ref[0], "latency_ms": ref[1]},
        "baseline": baseline.to_json() if baseline is not None else None,
        "pareto": front,
        "hypervolume_trace": hv_trace(history, ref),
        "knee": knee(pts),
        "fastest": int(np.argmin(pts[:, 1])),
        "best_under": {f"{b:g}": best_under(pts, b) for b in budgets},
        "speedup_within": speedup_within(pts, baseline.latency_ms, DROPS_REPORTED) if baseline is not None else {},
        "beats_teacher": flagged(history),
    }


def _plot_additive(ax: Any, summary: Mapping[str, Any]) -> None:
    """The additive prediction: its front (dashed) and each scored network's predicted drop (x)."""
    design = summary.get("initial_design") or {}
    front = np.asarray(design.get("additive_front") or [], dtype=float).reshape(-1, 2)
    pred = [e["additive"] for e in summary.get("evaluations", ()) if "additive" in e]
    if len(front) == 0 or not pred:
        return
    top = max(1.5 * max(float(e["objectives"]["psnr_drop"]) for e in summary["evaluations"]), 0.5)
    keep = front[:, 0] <= top
    ax.plot(front[keep, 1], front[keep, 0], "--", c="#8250df", lw=1, label="additive prediction: front")
    ax.scatter([p["latency_ms"] for p in pred], [p["psnr_drop"] for p in pred], marker="x", s=16, c="#8250df",
               label="additive prediction of each scored network")


def plot_front(history: Sequence[Evaluation], summary: Mapping[str, Any], path: Path, title: str,
               latency_label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archc.compiler.files import write_png_atomic

    pts = points(history)
    front = summary["pareto"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.scatter(pts[:, 1], pts[:, 0], s=14, c="#9aa5b1", label="evaluated")
    ax.plot(pts[front, 1], pts[front, 0], "-o", c="#1f6feb", ms=5, label="Pareto front")
    base = summary.get("baseline")
    if base is not None:
        ax.scatter([base["objectives"]["latency_ms"]], [base["objectives"]["psnr_drop"]], marker="*", s=160,
                   c="#d29922", label="baseline", zorder=5)
    _plot_additive(ax, summary)
    k = summary["knee"]
    ax.scatter([pts[k, 1]], [pts[k, 0]], marker="D", s=70, facecolors="none", edgecolors="#cf222e", lw=2,
               label="knee", zorder=6)
    ax.set_xlabel(latency_label)
    ax.set_ylabel("PSNR drop vs teacher (dB)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    write_png_atomic(path, fig)
