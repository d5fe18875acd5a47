"""Score finished searches on one latency they did not search on, so fronts found with different
latency terms (a device's block table, a proxy's count) compare on the same axis.

Each front network of a search (its `pareto` set, plus the baseline) is re-priced by a `Pricer`:
a whole-network profile on a device (`network_pricer`: measured on `cpu`, modelled on `s24`) or a
block-table prediction (`table_pricer`). Its PSNR drop stays what the search scored (surrogates,
validation crops). Then, per front:

- hypervolume of (PSNR drop, latency) against one reference point shared by every front compared
  (drop: 1.1 x the worst drop among them, >= 0.1 dB; latency: the baseline's), and its ratio to the
  first front's;
- best speed-up within `max_drop` dB: the baseline's latency over the fastest front network whose
  drop is at most `max_drop`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from attrs import frozen

from archc.compiler.frontend import choice_of
from archc.dsl.spec import Block, Spec

from .pareto import hypervolume_2d, non_dominated

Pricer = Callable[[Mapping[str, Block]], float]


@frozen
class Repriced:
    """A search's front on another latency: one row per front network (ms on that latency)."""

    name: str
    canonical: tuple[str, ...]
    drops: np.ndarray  # `n` PSNR drops (dB) as the search scored them
    latency_ms: np.ndarray  # `n` latencies on the pricer's device
    searched: np.ndarray  # `n` latencies the search saw (ms or a proxy's unit)
    baseline_ms: float

    def points(self) -> np.ndarray:
        """`n x 2` (drop, latency) rows."""
        return np.stack([self.drops, self.latency_ms], axis=1)


def table_pricer(table: Any) -> Pricer:
    """Predictions of a block table (`LatencyTable.predict`): additive, corrected on the baseline."""
    return lambda choice: float(table.predict(choice))


def network_pricer(spec: Spec, profiler: Any, size: tuple[int, int]) -> Pricer:
    """Whole networks profiled on `profiler` at `size` (each canonical network once)."""
    from archc.compiler.choice import canonical_choice
    from archc.runtime.profile.table import network_workload

    cache: dict[str, float] = {}

    def price(choice: Mapping[str, Block]) -> float:
        key = canonical_choice(spec, choice)
        if key not in cache:
            cache[key] = float(profiler.profile(network_workload(spec, choice, size)).median_ms)
        return cache[key]

    return price


def _choice(spec: Spec, evaluation: Mapping[str, Any]) -> dict[str, Block]:
    return dict(choice_of(spec, evaluation.get("choice") or {}))


def reprice(name: str, results: Mapping[str, Any], spec: Spec, pricer: Pricer) -> Repriced:
    """The front of search `results` (search.json content) on `pricer`'s latency."""
    evals = results["evaluations"]
    front = [evals[i] for i in results["pareto"]]
    return Repriced(
        name,
        tuple(e["canonical"] for e in front),
        np.array([e["objectives"]["psnr_drop"] for e in front], dtype=float),
        np.array([pricer(_choice(spec, e)) for e in front], dtype=float),
        np.array([e["objectives"]["latency_ms"] for e in front], dtype=float),
        pricer({}),
    )


def best_speedup(front: Repriced, max_drop: float = 0.3) -> float | None:
    """Baseline latency over the fastest network within `max_drop` dB (None: none within it)."""
    ok = front.latency_ms[front.drops <= max_drop]
    return float(front.baseline_ms / ok.min()) if len(ok) else None


def reference(fronts: Sequence[Repriced]) -> tuple[float, float]:
    """The shared reference point: (1.1 x the worst drop, >= 0.1 dB; the baseline's latency)."""
    worst = max((float(f.drops.max()) for f in fronts if len(f.drops)), default=0.0)
    return max(0.1, 1.1 * worst), max(f.baseline_ms for f in fronts)


def compare(fronts: Sequence[Repriced], max_drop: float = 0.3) -> dict[str, Any]:
    """Hypervolume (and its ratio to the first front's) and best speed-up within `max_drop` per front."""
    ref = reference(fronts)
    hv = [hypervolume_2d(f.points(), ref) for f in fronts]
    rows = []
    for f, h in zip(fronts, hv, strict=True):
        keep = non_dominated(f.points()) if len(f.drops) else np.zeros(0, dtype=bool)
        rows.append(
            {
                "name": f.name,
                "networks": len(f.drops),
                "still_pareto": int(keep.sum()),
                "hypervolume": h,
                "hypervolume_ratio": h / hv[0] if hv[0] > 0 else None,
                "best_speedup_within": best_speedup(f, max_drop),
                "baseline_ms": f.baseline_ms,
            }
        )
    return {"reference_point": {"psnr_drop": ref[0], "latency_ms": ref[1]}, "max_drop_db": max_drop, "fronts": rows}
