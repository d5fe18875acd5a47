"""From per-name, per-batch values to one number per unit, and the normalisations across units.

- sum: `measures.py` reduction over the names the unit holds;
- per_param: sum / all parameters of the unit (NaN for a unit without parameters);
- rank: the rank of the sum among the units of one kind (blocks, or slots), divided by the
  number of ranked units: in (0, 1], 1 = the highest score; ties share their average rank;
  NaN sums stay NaN and are not counted; +-inf rank as the largest / smallest values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from .first_order import PerBatch
from .units import Unit

DECADES = 3.0  # log scale once the positive values span this many powers of ten


def unit_value(values: PerBatch, unit: Unit, how: str) -> float:
    """mean_b sum_names (how="sum") or mean_b (sum_names)^2 (how="sum_squared") over the names
    (module paths) inside `unit`; 0 for a unit holding none of them."""
    held = [v for n, v in values.items() if unit.holds(n)]
    if not held:
        return 0.0
    total = np.sum(held, axis=0)
    return float(np.mean(total**2 if how == "sum_squared" else total))


def per_param(value: float, params: int) -> float:
    return value / params if params else math.nan


def ranks(values: Sequence[float]) -> list[float]:
    """Rank-normalise (see module docstring)."""
    arr = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(arr)
    out = np.full(arr.shape, np.nan)
    if keep.any():
        out[keep] = rankdata(arr[keep], method="average") / keep.sum()
    return [float(v) for v in out]


def scale_of(values: Sequence[float]) -> str:
    """How to draw `values`: "log10" when positive and spanning DECADES or more powers of ten,
    "symlog" when signed and spanning them, else "linear"."""
    arr = np.abs(np.asarray([v for v in values if math.isfinite(v) and v != 0.0], dtype=np.float64))
    if arr.size < 2 or np.log10(arr.max() / arr.min()) < DECADES:
        return "linear"
    return "log10" if all(v >= 0 for v in values if math.isfinite(v)) else "symlog"
