"""The block table's scale fitted on whole networks besides the baseline (`archc profile --fit N`).

A prediction multiplies the block sum by (baseline - fixed) / the baseline's block sum: one whole
network's timing sets every prediction, so a baseline timed high by a burst of load moves them
all (nafnet_small on `cpu`, 128x128, under load: scale 1.30, 0 % of 8 networks within +-10 %,
where the plain block sum held 100 %). `fit` times N more networks drawn from the space end to
end and takes the median ratio over them and the baseline (`LatencyTable._scale`). They are drawn
with a stream of their own, and `--validate` never draws them, so its figures stay held out.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from archc.compiler.choice import canonical_choice

from .backend import Profiler
from .record import RunRecord
from .table import LatencyTable, Progress, network_workload
from .validate import draw_networks

STREAM = 1  # the fit's draws: numpy's seed sequence [seed, STREAM], apart from --validate's [seed]


def fit_scale(
    table: LatencyTable,
    profiler: Profiler,
    n: int,
    record: RunRecord,
    seed: int = 0,
    progress: Progress = lambda key: None,
) -> tuple[LatencyTable, list[tuple[int, ...]]]:
    """Time `n` drawn networks end to end, record them under `fit`, and return the table with its
    scale fitted on them and the baseline (and the networks' indices, for `--validate` to skip)."""
    draws = draw_networks(table, n, np.random.default_rng([seed, STREAM]))
    rows: list[dict[str, Any]] = []
    for idx in draws:
        choice = table.space.decode(idx)
        w = network_workload(table.spec, choice, table.size)
        progress(w.key)
        measured = profiler.profile(w)
        record.add_measurement(w.key, measured.to_json())
        rows.append(
            {
                "choice": canonical_choice(table.spec, choice),
                "measured_ms": measured.median_ms,
                "iqr_ms": measured.iqr_ms,
                "block_sum_ms": table.block_sum(choice),
                "label": measured.kind,
            }
        )
    fitted = attrs.evolve(table, fit=tuple((r["block_sum_ms"], r["measured_ms"] - table.fixed_ms) for r in rows))
    record.put("fit", rows)
    record.put("correction", fitted.correction_json())
    return fitted, draws
