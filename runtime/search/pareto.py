"""Pareto analysis of (PSNR drop, latency) points, both minimised.

- Hypervolume: the exact 2-D area dominated by the front and bounded by a reference point.
- Knee: normalise both objectives over the front to [0, 1] and take the front point farthest from
  the straight line through the front's two extreme points (the point of maximum bend: giving up
  more quality buys little speed beyond it, and vice versa). Fronts of one or two points: the
  point nearest the utopia corner (0, 0) after normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    if len(front) <= 2:
        return front[int(np.argmin(np.linalg.norm(z, axis=1)))]
    a, b = z[0], z[-1]  # fastest and most accurate extremes
    direction = (b - a) / np.linalg.norm(b - a)
    rel = z - a
    dist = np.abs(rel[:, 0] * direction[1] - rel[:, 1] * direction[0])
    return front[int(np.argmax(dist))]


def best_under(points: np.ndarray, latency_budget: float) -> int | None:
    """Index of the smallest PSNR drop among points with latency <= budget (None if none)."""
    pts = np.asarray(points, dtype=float)
    ok = np.flatnonzero(pts[:, 1] <= latency_budget)
    if len(ok) == 0:
        return None
    return int(ok[np.lexsort((pts[ok, 1], pts[ok, 0]))[0]])
