"""The additive prediction of every network of a search space from what earlier stages measured.

- Drop: the distill stage's plug-in report (`distill.json`) holds, for every slot x candidate, the
  PSNR drop of the teacher with only that slot replaced by its surrogate. A network's predicted
  drop is the sum of its slots' plug-in drops (the original block: 0). In a precision space a
  slot's precision adds nothing to the prediction (no stage measures it alone); the search's model
  learns its cost from the scored networks.
- Latency: the block table's sum (`objectives.latency_matrix`; in a precision space one table per
  precision, `profile/precision.mixed_latency`), exact for the search's own latency objective.

Both objectives are sums of one term per slot, so the exact Pareto front of the whole space comes
from a front merge, slot after slot: the front of slots 1..k+1 is the front of (front of slots 1..k)
x (the options of slot k+1). A network off the front of its first k slots is dominated by the
network with that prefix swapped for the one dominating it, so nothing on the final front is lost;
the fronts stay small (hundreds of points), so 7^8 networks take milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import field, frozen

from archc.compiler.space import SearchSpace

from .exact import sweep_front

Indices = tuple[int, ...]
REPORT = "distill.json"


@frozen
class Unavailable:
    """Why a space has no additive prediction (the note the search logs and journals)."""

    note: str


@frozen
class AdditiveModel:
    """Per-slot terms of the prediction.

    `drop`: `slots x max(candidates)` plug-in drops (dB); `latency`: `slots x max(candidates) x
    precisions` latency deltas (ms) over `latency_base` (one precision column without a precision
    line). Cells past a slot's radix are unused.
    """

    space: SearchSpace = field(eq=False)
    drop: np.ndarray = field(converter=lambda t: np.asarray(t, dtype=float))
    latency: np.ndarray = field(converter=lambda t: np.asarray(t, dtype=float))
    latency_base: float = 0.0
    source: str = ""

    @property
    def slots(self) -> int:
        return len(self.space.slots)

    def predict(self, rows: np.ndarray | Sequence[Indices]) -> np.ndarray:
        """`n x len(radices)` index rows -> `n x 2` predicted (drop dB, latency ms)."""
        m = self.slots
        rows = np.asarray(rows, dtype=int).reshape(-1, len(self.space.radices))
        blocks = rows[:, :m]
        precisions = rows[:, m:] if self.space.has_precision else np.zeros_like(blocks)
        cols = np.arange(m)
        drop = self.drop[cols, blocks].sum(axis=1)
        lat = self.latency_base + self.latency[cols, blocks, precisions].sum(axis=1)
        return np.stack([drop, lat], axis=1)

    def drop_of(self, idx: Indices) -> float:
        return float(self.predict([idx])[0, 0])

    def _options(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        """(`k x 2` (drop, latency) terms, `k x 2` (block, precision) indices) of one slot."""
        s = self.space.slots[slot]
        n_prec = max(1, len(s.precisions))
        pairs = np.array([(c, p) for c in range(len(s.candidates)) for p in range(n_prec)], dtype=int)
        pts = np.stack([self.drop[slot, pairs[:, 0]], self.latency[slot, pairs[:, 0], pairs[:, 1]]], axis=1)
        return pts, pairs

    def front(self) -> tuple[np.ndarray, np.ndarray]:
        """The exact Pareto front of the prediction over the whole space: (`k x 2` points (drop,
        latency), `k x len(radices)` index rows), fastest first (module docstring: front merge)."""
        pts = np.array([[0.0, self.latency_base]])
        choice = np.zeros((1, 0, 2), dtype=int)
        for slot in range(self.slots):
            opt, pairs = self._options(slot)
            merged = (pts[:, None, :] + opt[None, :, :]).reshape(-1, 2)
            grown = np.concatenate(
                [np.repeat(choice, len(opt), axis=0), np.tile(pairs, (len(pts), 1))[:, None, :]], axis=1
            )
            keep = sweep_front(merged)
            pts, choice = merged[keep], grown[keep]
        rows = (
            choice[:, :, 0]
            if not self.space.has_precision
            else np.concatenate([choice[:, :, 0], choice[:, :, 1]], axis=1)
        )
        return pts, rows


def spread(points: np.ndarray, n: int, cap: float) -> list[int]:
    """Up to `n` distinct positions of `points` (a front, `k x 2` (drop, latency)) covering the
    drops from 0 to `cap` (capped at the front's largest drop), denser near 0: the point nearest
    each target cap * (j / n)^2, j = 1..n, that is not taken yet."""
    if n <= 0 or len(points) == 0:
        return []
    top = min(cap, float(points[:, 0].max()))
    taken: list[int] = []
    for j in range(1, n + 1):
        target = top * (j / n) ** 2
        order = np.argsort(np.abs(points[:, 0] - target), kind="stable")
        free = [int(i) for i in order if int(i) not in taken]
        if not free:
            break
        taken.append(free[0])
    return sorted(taken, key=lambda i: float(points[i, 0]))


def plugin_report(surrogates: str | Path | None) -> Path | None:
    """The distill stage's report beside a surrogate bank (`RUN/distill/surrogates` ->
    `RUN/distill/distill.json`), or None."""
    if surrogates is None:
        return None
    path = Path(surrogates).parent / REPORT
    return path if path.is_file() else None


def plugin_drops(space: SearchSpace, report: Mapping[str, Any]) -> np.ndarray | Unavailable:
    """`slots x max(candidates)` plug-in drops from a distill report, or why they cannot serve."""
    iters = (report.get("config") or {}).get("iters")
    if iters == 0:
        return Unavailable("the distill stage ran with --iters 0: its plug-in drops measure untrained candidates")
    rows = {(r["slot"], r["candidate"]): float(r["plug_in_drop"]) for r in report.get("surrogates", ())}
    out = np.zeros((len(space.slots), max(len(s.candidates) for s in space.slots)))
    missing = []
    for i, slot in enumerate(space.slots):
        for c, block in enumerate(slot.candidates):
            if block.canonical == slot.original.canonical:
                continue
            value = rows.get((slot.name, block.canonical))
            if value is None:
                missing.append(f"{slot.name}={block.canonical}")
            else:
                out[i, c] = value
    if missing:
        return Unavailable(f"the plug-in report lacks {len(missing)} swaps of the space (e.g. {missing[0]})")
    return out


def latency_terms(space: SearchSpace, base: float, matrix: np.ndarray) -> np.ndarray:
    """The search's latency matrix (`slots x candidates`, or `slots x candidates x precisions` in a
    precision space) as `slots x candidates x precisions` terms."""
    m = np.asarray(matrix, dtype=float)
    return m if space.has_precision else m[:, :, None]


def load(
    space: SearchSpace, report: str | Path | None, latency_base: float, latency_matrix: np.ndarray
) -> AdditiveModel | Unavailable:
    """The additive model of `space` from a distill report file and the search's latency terms."""
    if report is None or not Path(report).is_file():
        return Unavailable("no plug-in report (distill.json beside the surrogates)")
    drops = plugin_drops(space, json.loads(Path(report).read_text(encoding="utf-8")))
    if isinstance(drops, Unavailable):
        return drops
    return AdditiveModel(space, drops, latency_terms(space, latency_base, latency_matrix), latency_base, str(report))
