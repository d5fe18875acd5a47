"""Predicted vs measured: networks predicted from the block table and profiled end to end.

`validate` draws N distinct networks from the search space (never the baseline or the `--fit`
networks, on which the correction is fitted), and reports nn-Meter's figures: the share of
predictions within +-10 % of the measurement and the root-mean-square percentage error, plus
Kendall's tau (does the table rank networks as the device does?); the same figures for the
other corrections of the table (none, additive, proportional; with `--fit`, also the scale of
the baseline alone; with `--swaps`, the in-network swaps) on the same networks say which one this
device follows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from archc.compiler.choice import canonical_choice
from archc.dsl.spec import Block

from .backend import Profiler
from .record import RunRecord
from .table import ADDITIVE, PROPORTIONAL, SWAPS, LatencyTable, Progress, network_workload


def error_pct(predicted: float, measured: float) -> float:
    return 100.0 * (predicted - measured) / measured


def summary(predicted: Sequence[float], measured: Sequence[float]) -> dict[str, Any]:
    """Within-10 % share, RMSPE, mean/max absolute % error and Kendall's tau."""
    if not predicted:
        return {"n": 0}
    err = np.array([error_pct(p, m) for p, m in zip(predicted, measured, strict=True)])
    out: dict[str, Any] = {
        "n": len(err),
        "within_10pct": float(np.mean(np.abs(err) <= 10.0)),
        "rmspe_pct": float(math.sqrt(np.mean(err**2))),
        "mean_abs_error_pct": float(np.mean(np.abs(err))),
        "max_abs_error_pct": float(np.max(np.abs(err))),
    }
    if len(err) >= 3:
        from scipy.stats import kendalltau

        tau = kendalltau(predicted, measured).statistic
        out["kendall_tau"] = None if math.isnan(tau) else float(tau)
    return out


def compare(
    table: LatencyTable,
    profiler: Profiler,
    choice: Mapping[str, Block],
    record: RunRecord,
    source: str,
    progress: Progress = lambda key: None,
) -> dict[str, Any]:
    """Predict one network from the table and profile it end to end; the row is recorded."""
    w = network_workload(table.spec, choice, table.size)
    progress(w.key)
    measured = profiler.profile(w)
    predicted = table.predict(choice)
    row = {
        "choice": canonical_choice(table.spec, choice),
        "predicted_ms": predicted,
        "uncorrected_ms": table.predict(choice, corrected=False),
        "additive_ms": table.predict(choice, correction=ADDITIVE),
        "proportional_ms": table.predict(choice, correction=PROPORTIONAL),
        **(
            {"baseline_scaled_ms": attrs.evolve(table, fit=()).predict(choice, correction=PROPORTIONAL)}
            if table.fit
            else {}
        ),
        **({"swaps_ms": table.predict(choice, correction=SWAPS)} if table.swap_base_ms is not None else {}),
        "measured_ms": measured.median_ms,
        "iqr_ms": measured.iqr_ms,
        "repeats": measured.repeats,
        "label": measured.kind,
        "error_pct": error_pct(predicted, measured.median_ms),
        "source": source,
    }
    record.add_network(row)
    return row


def draw_networks(
    table: LatencyTable, n: int, rng: np.random.Generator, skip: Sequence[tuple[int, ...]] = ()
) -> list[tuple[int, ...]]:
    """`n` distinct networks of the table's space, never the baseline nor `skip`."""
    space = table.space
    return space.sample(rng, n, exclude=[(0,) * len(space.radices), *skip])


def validate(
    table: LatencyTable,
    profiler: Profiler,
    n: int,
    record: RunRecord,
    seed: int = 0,
    progress: Progress = lambda key: None,
    skip: Sequence[tuple[int, ...]] = (),
) -> dict[str, Any]:
    """Draw `n` networks (seeded; never the baseline nor `skip`), compare each, and record the
    summary under `validation`."""
    rows = []
    for idx in draw_networks(table, n, np.random.default_rng(seed), skip):
        rows.append(compare(table, profiler, table.space.decode(idx), record, "validate", progress))
    pred = [r["predicted_ms"] for r in rows]
    meas = [r["measured_ms"] for r in rows]
    result = {**summary(pred, meas), "seed": seed, "correction": table.correction}
    others = (
        "uncorrected",
        ADDITIVE,
        PROPORTIONAL,
        *(("baseline_scaled",) if table.fit else ()),
        *((SWAPS,) if table.swap_base_ms is not None else ()),
    )
    for other in others:  # each correction's figures on the same networks
        result[other] = summary([r[f"{other}_ms"] for r in rows], meas)
    record.put("validation", result)
    return result
