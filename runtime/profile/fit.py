"""Fitting a device model's coefficients to measured latencies by least squares.

Latency is linear in the coefficients (inverse throughputs, inverse bandwidth, fixed costs,
penalties) once each node's branch of max(compute, memory) is fixed. So: choose the branches
at the current coefficients, solve a bounded linear least-squares problem on *relative* error
(each network's row divided by its measured latency, so a 0.5 ms and a 50 ms network weigh the
same), re-choose the branches, and repeat until they settle. Coefficients are kept within a
factor `spread` of the starting device's values (inverse throughputs) or >= 0 (fixed costs,
penalties); a coefficient no sample exercises keeps its starting value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from attrs import frozen
from scipy.optimize import lsq_linear

from .costmodel import COEFFICIENTS, DeviceModel, OpTable, theta, with_theta
from .validate import summary

ALL = tuple(COEFFICIENTS)
DEFAULT_FIT = (
    "compute.dense_macs_per_s",
    "compute.depthwise_macs_per_s",
    "compute.pointwise_macs_per_s",
    "compute.elementwise_per_s",
    "memory.bandwidth_bytes_per_s",
    "overhead.per_op_s",
    "overhead.per_network_s",
)
_INVERSE = frozenset(n for n in ALL if n.startswith(("compute.", "memory.")))


@frozen(eq=False)
class Sample:
    """One measured workload: its nodes on the device's structure, and its latency in seconds."""

    name: str
    table: OpTable
    seconds: float
    weight: float = 1.0  # relative weight of this sample's squared relative error


def _bounds(names: Sequence[str], start: np.ndarray, spread: float) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([s / spread if n in _INVERSE else 0.0 for n, s in zip(names, start, strict=True)])
    hi = np.array([s * spread if n in _INVERSE else np.inf for n, s in zip(names, start, strict=True)])
    return lo, hi


def _branches(samples: Sequence[Sample], model: DeviceModel) -> list[np.ndarray]:
    out = []
    for s in samples:
        inv = np.array(
            [
                1.0 / model.dense_macs_per_s,
                1.0 / model.depthwise_macs_per_s,
                1.0 / model.pointwise_macs_per_s,
                1.0 / model.elementwise_per_s,
            ]
        )
        out.append(s.table.work * inv[s.table.cls] >= s.table.dram / model.bandwidth_bytes_per_s)
    return out


def _step(
    samples: Sequence[Sample], model: DeviceModel, names: Sequence[str], spread: float, start: np.ndarray
) -> DeviceModel:
    a = np.array([s.table.features(model, ALL) for s in samples])
    y = np.array([s.seconds for s in samples])
    w = np.sqrt(np.array([s.weight for s in samples]))
    th = theta(model, ALL)
    fit = [i for i, n in enumerate(ALL) if n in names and np.any(a[:, i] > 0)]
    if not fit:
        return model
    rest = [i for i in range(len(ALL)) if i not in fit]
    b = w * (y - a[:, rest] @ th[rest]) / y
    lo, hi = _bounds([ALL[i] for i in fit], start[fit], spread)
    x0 = np.clip(th[fit], lo, hi)
    lo, hi = np.minimum(lo, x0), np.maximum(hi, x0)
    sol = lsq_linear(a[:, fit] * (w / y)[:, None], b, bounds=(lo, hi), method="bvls")
    th[fit] = np.clip(sol.x, lo, hi)  # bvls may end a rounding error outside a bound (e.g. -5e-24 < 0)
    return with_theta(model, th.tolist(), ALL)


def rel_errors(samples: Sequence[Sample], model: DeviceModel) -> np.ndarray:
    """Weighted relative errors (what the fit minimises the squares of)."""
    return np.array([np.sqrt(s.weight) * (s.table.total(model) - s.seconds) / s.seconds for s in samples])


def fit(
    samples: Sequence[Sample],
    model: DeviceModel,
    names: Sequence[str] = DEFAULT_FIT,
    spread: float = 16.0,
    iterations: int = 30,
) -> DeviceModel:
    """`model` with the coefficients `names` fitted to `samples` (see the module docstring)."""
    unknown = set(names) - set(ALL)
    if unknown:
        raise ValueError(f"unknown coefficients: {sorted(unknown)}")
    start = theta(model, ALL)
    best, best_err = model, float(np.sum(rel_errors(samples, model) ** 2))
    branches = _branches(samples, model)
    for _ in range(iterations):
        model = _step(samples, model, names, spread, start)
        err = float(np.sum(rel_errors(samples, model) ** 2))
        if err < best_err:
            best, best_err = model, err
        new = _branches(samples, model)
        if all(np.array_equal(x, y) for x, y in zip(new, branches, strict=True)):
            break
        branches = new
    return best


def report(samples: Sequence[Sample], model: DeviceModel) -> dict[str, Any]:
    """Per-sample predicted vs measured (ms) and the summary figures (within 10 %, RMSPE, ...)."""
    pred = [s.table.total(model) * 1e3 for s in samples]
    meas = [s.seconds * 1e3 for s in samples]
    rows: list[dict[str, Any]] = [
        {"name": s.name, "predicted_ms": p, "measured_ms": m, "error_pct": 100 * (p - m) / m}
        for s, p, m in zip(samples, pred, meas, strict=True)
    ]
    out = summary(pred, meas)
    if rows:
        out["median_abs_error_pct"] = float(np.median([abs(r["error_pct"]) for r in rows]))
    return {**out, "rows": rows}
