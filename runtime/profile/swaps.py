"""In-network swaps (`archc profile --swaps`): every single-slot change of the baseline timed end to
end, so that a prediction adds what each change costs *inside* the network.

A block timed alone pays what a block inside a network does not (its own graph's entry and exit),
and misses what it does pay there (a layout change at the edge of a delegated region, a cache
that its neighbours fill). Where those differ a lot between candidates, no single scale of the
block sums fits every network: on `executorch-cpu` (XNNPACK) the blocks of nafnet_small at
128x128 summed to 1.44x their cost inside the network, with per-network ratios from 0.59 to
0.78, and 62 % of eight networks came within +-10 %. A swap network measures the change itself:

    predicted = baseline + sum over changed slots of (swap network - baseline)

which is exact for the baseline and for every single-slot change, and assumes only that changes
in different slots add up (HW-NAS-Bench's additivity, now between slots instead of between
blocks and the rest). It costs one network per (slot, candidate) besides the original (48 on
the demo's 8 x 7 space), where the block table costs one block each.

Every delta shares the baseline's figure, so an error in it moves a k-slot prediction by
(1 - k) times that error, and a machine's speed drifts over the minutes a sweep takes (a long
run of conversions on `executorch-cpu` timed the same network 16 % apart). The baseline is
therefore timed again before every swap and after the last (its conversion is cached, so each
timing costs only its runs): each delta is the swap minus the mean of the baseline timings on
either side of it, and predictions start from the median of all the baseline's timings.
"""

from __future__ import annotations

import statistics
from typing import Any

import attrs

from archc.compiler.choice import canonical_choice

from .backend import Profiler
from .record import RunRecord
from .table import SWAPS, LatencyTable, Progress, network_workload, with_swaps


def measure_swaps(
    table: LatencyTable, profiler: Profiler, record: RunRecord, progress: Progress = lambda key: None
) -> LatencyTable:
    """Time every single-slot swap of the baseline, with the baseline before each and after the
    last; record them under `swaps` and return the table predicting with them (correction `swaps`)."""
    base_w = network_workload(table.spec, {}, table.size, "baseline")

    def baseline() -> float:
        progress(base_w.key)
        return profiler.profile(base_w).median_ms

    baselines = [table.baseline_ms]
    rows: list[dict[str, Any]] = []
    section: dict[str, Any] = {"baseline_ms": baselines, "rows": rows}
    for slot in table.space.slots:
        for block in slot.candidates[1:]:
            baselines.append(baseline())
            choice = {slot.name: block}
            w = network_workload(table.spec, choice, table.size)
            progress(w.key)
            m = profiler.profile(w)
            record.add_measurement(w.key, m.to_json())
            rows.append(
                {
                    "slot": slot.name,
                    "candidate": block.canonical,
                    "choice": canonical_choice(table.spec, choice),
                    "measured_ms": m.median_ms,
                    "iqr_ms": m.iqr_ms,
                    "label": m.kind,
                }
            )
            record.put("swaps", section)
    baselines.append(baseline())
    for i, row in enumerate(rows):  # baselines[i + 1] was timed just before swap i, baselines[i + 2] just after
        row["delta_ms"] = row["measured_ms"] - (baselines[i + 1] + baselines[i + 2]) / 2
    section["baseline_median_ms"] = float(statistics.median(baselines))
    swapped = attrs.evolve(with_swaps(table, section), correction=SWAPS)
    record.put("swaps", section)
    record.put("correction", swapped.correction_json())
    return swapped
