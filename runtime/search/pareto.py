"""Pareto analysis of (PSNR drop, latency) points, both minimised.

- Hypervolume: the exact 2-D area dominated by the front and bounded by a reference point.
- Knee: normalise both objectives over the front to [0, 1] and, among the front points strictly on
  the ideal side of the straight line through the front's two extreme points (the side of the
  utopia corner (0, 0)), take the one farthest from that line (the point of maximum bend: giving
  up more quality buys little speed beyond it, and vice versa). A point on the other side sits in
  a concave stretch, where a straight mix of the extremes would be better, so it is never the
  knee. Fronts of one or two points, and fronts with no point on the ideal side: the point nearest
  the utopia corner after normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def non_dominated(points: np.ndarray) -> np.ndarray:
    """`n x k` objective values (minimised) -> boolean mask of the Pareto-optimal rows.

    Duplicates of a Pareto-optimal point are all kept.
    """
    pts = np.asarray(points, dtype=float)
    mask = np.ones(len(pts), dtype=bool)
    for i, p in enumerate(pts):
        dominated = np.all(pts <= p, axis=1) & np.any(pts < p, axis=1)
        mask[i] = not dominated.any()
    return mask


def front_indices(points: np.ndarray) -> list[int]:
    """Indices of the Pareto-optimal rows, sorted by the second objective (latency)."""
    pts = np.asarray(points, dtype=float)
    idx = np.flatnonzero(non_dominated(pts))
    return [int(i) for i in idx[np.lexsort((pts[idx, 0], pts[idx, 1]))]]


def hypervolume_2d(points: np.ndarray, ref: Sequence[float]) -> float:
    """Area dominated by `points` (n x 2, minimised) inside the box below `ref`.

    Sweep along the first objective (ascending): between consecutive x values the dominated
    height is ref_y minus the lowest y seen so far.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[np.all(pts < np.asarray(ref, dtype=float), axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[np.argsort(pts[:, 0], kind="stable")]
    xs = [*pts[:, 0].tolist(), float(ref[0])]
    area, y_min = 0.0, float(ref[1])
    for i, y in enumerate(pts[:, 1]):
        y_min = min(y_min, float(y))
        area += (xs[i + 1] - xs[i]) * (float(ref[1]) - y_min)
    return area


def knee(points: np.ndarray) -> int:
    """Index (into `points`) of the knee of their Pareto front; see the module docstring."""
    pts = np.asarray(points, dtype=float)
    front = front_indices(pts)
    f = pts[front]
    lo, span = f.min(axis=0), np.ptp(f, axis=0)
    span[span == 0] = 1.0
    z = (f - lo) / span
    nearest = front[int(np.argmin(np.linalg.norm(z, axis=1)))]
    if len(front) <= 2:
        return nearest
    a, b = z[0], z[-1]  # fastest and most accurate extremes
    direction = (b - a) / np.linalg.norm(b - a)

    def side(p: np.ndarray) -> np.ndarray:  # signed distance to the chord
        rel = p - a
        return rel[..., 0] * direction[1] - rel[..., 1] * direction[0]  # type: ignore[no-any-return]

    toward_ideal = side(z) * np.sign(side(np.zeros(2)))
    if not np.any(toward_ideal > 1e-12):
        return nearest
    return front[int(np.argmax(toward_ideal))]


def best_under(points: np.ndarray, latency_budget: float) -> int | None:
    """Index of the smallest PSNR drop among points with latency <= budget (None if none)."""
    pts = np.asarray(points, dtype=float)
    ok = np.flatnonzero(pts[:, 1] <= latency_budget)
    if len(ok) == 0:
        return None
    return int(ok[np.lexsort((pts[ok, 1], pts[ok, 0]))[0]])


def best_within_drop(points: np.ndarray, max_drop: float) -> int | None:
    """Index of the lowest latency among points with PSNR drop <= `max_drop` (ties: the smaller
    drop; None if none)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    ok = np.flatnonzero(pts[:, 0] <= max_drop)
    if len(ok) == 0:
        return None
    return int(ok[np.lexsort((pts[ok, 0], pts[ok, 1]))[0]])


def speedup_within(points: np.ndarray, base_latency: float, drops: Sequence[float]) -> dict[str, Any]:
    """{drop: {index, speedup, psnr_drop} of the fastest point within that drop, or None}, the
    speed-up being `base_latency` / its latency."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    out: dict[str, Any] = {}
    for d in drops:
        i = best_within_drop(pts, d)
        out[f"{d:g}"] = (
            None
            if i is None
            else {"index": i, "speedup": float(base_latency / pts[i, 1]), "psnr_drop": float(pts[i, 0])}
        )
    return out
