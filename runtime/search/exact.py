"""The exact Pareto front of a separable objective over a whole search space.

The objective (both minimised) of a network with candidate index `c_i` in slot `i`:

    latency = latency_base + sum_i latency[i, c_i]
    drop    = drop_base + sum_i drop[i, c_i] + sum over interactions (i, j) of pair_ij[c_i, c_j]

i.e. an additive block-table latency (`objectives.latency_matrix`) and a PSNR drop made of per-slot
terms plus sparse pairwise interactions. It is cheap to evaluate in bulk, so the exact front is
found by exhaustive enumeration in chunks of flat indices (mixed radix, first slot most
significant, as `SearchSpace.index_of`): each chunk is reduced to its own front by a 2-D sweep, and
the union of the chunk fronts is swept once more (a point off its chunk's front is off the whole
front). 7^8 = 5.8 M networks take a few seconds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import field, frozen

CHUNK = 1 << 20


@frozen
class Interaction:
    """A pairwise term: `table[c_i, c_j]` is added to the drop when slots i and j hold c_i, c_j."""

    i: int
    j: int
    table: np.ndarray = field(converter=lambda t: np.asarray(t, dtype=float))


@frozen
class SeparableObjective:
    """`latency`, `drop`: slots x max(radix) per-candidate terms (cells past a slot's radix unused)."""

    radices: tuple[int, ...]
    latency: np.ndarray = field(converter=lambda t: np.asarray(t, dtype=float))
    drop: np.ndarray = field(converter=lambda t: np.asarray(t, dtype=float))
    interactions: tuple[Interaction, ...] = ()
    latency_base: float = 0.0
    drop_base: float = 0.0

    @property
    def size(self) -> int:
        return math.prod(self.radices)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """`n x slots` index rows of flat indices start..stop-1."""
        return np.stack(np.unravel_index(np.arange(start, stop), self.radices), axis=1)

    def points(self, rows: np.ndarray) -> np.ndarray:
        """`n x slots` index rows -> `n x 2` (drop, latency)."""
        rows = np.asarray(rows, dtype=int).reshape(-1, len(self.radices))
        cols = np.arange(len(self.radices))
        drop = self.drop_base + self.drop[cols, rows].sum(axis=1)
        for t in self.interactions:
            drop = drop + t.table[rows[:, t.i], rows[:, t.j]]
        lat = self.latency_base + self.latency[cols, rows].sum(axis=1)
        return np.stack([drop, lat], axis=1)

    def __call__(self, idx: Sequence[int]) -> dict[str, float]:
        """The engine's evaluator: one index tuple -> {psnr_drop, latency_ms}."""
        d, lat = self.points(np.asarray([idx]))[0]
        return {"psnr_drop": float(d), "latency_ms": float(lat)}

    def latency_rows(self, rows: np.ndarray) -> np.ndarray:
        """`n x slots` -> n latencies: the exact latency model BoTorch is given."""
        return self.points(rows)[:, 1]

    def chunks(self, chunk: int = CHUNK) -> Iterator[tuple[int, np.ndarray]]:
        """(first flat index, points) of consecutive chunks covering the space."""
        for start in range(0, self.size, chunk):
            stop = min(start + chunk, self.size)
            yield start, self.points(self.rows(start, stop))

    def to_json(self) -> dict[str, Any]:
        return {"radices": list(self.radices), "latency": self.latency.tolist(), "drop": self.drop.tolist(),
                "latency_base": self.latency_base, "drop_base": self.drop_base,
                "interactions": [{"i": t.i, "j": t.j, "table": t.table.tolist()} for t in self.interactions]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SeparableObjective:
        pairs = tuple(Interaction(int(t["i"]), int(t["j"]), t["table"]) for t in d.get("interactions", ()))
        return cls(tuple(int(r) for r in d["radices"]), d["latency"], d["drop"], pairs,
                   float(d.get("latency_base", 0.0)), float(d.get("drop_base", 0.0)))

    @classmethod
    def load(cls, path: str | Path) -> SeparableObjective:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def sweep_front(points: np.ndarray) -> np.ndarray:
    """Positions of the 2-D Pareto front of `n x 2` minimised points, fastest (2nd objective) first.

    Of points with equal objective values only one is kept. Sorted by latency then drop, a point is
    on the front iff its drop is strictly below every drop before it.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    order = np.lexsort((pts[:, 0], pts[:, 1]))
    drops = pts[order, 0]
    best_before = np.minimum.accumulate(np.concatenate([[np.inf], drops[:-1]]))
    return order[drops < best_before]


def exact_front(objective: SeparableObjective, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """(front points `k x 2` (drop, latency), their flat indices `k`), fastest first."""
    pts, flat = [], []
    for start, p in objective.chunks(chunk):
        keep = sweep_front(p)
        pts.append(p[keep])
        flat.append(start + keep)
    allp, allf = np.concatenate(pts), np.concatenate(flat)
    keep = sweep_front(allp)
    return allp[keep], allf[keep]
