"""The table of saliency measures and the one runner that computes any subset of them.

Each measure yields one value per (scored name, batch): scored layer names for the weight
measures, block module paths for `taylor`. A unit (block or slot, `units.py`) reduces them:
- "sum": mean over batches of the sum over the unit's names;
- "sum_squared": mean over batches of the square of that sum (`taylor`: the squared
  first-order estimate of the loss change when the whole unit is removed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from attrs import frozen

from archc.errors import SaliencyError

from .first_order import FORMULAS, PerBatch, first_order
from .grasp import grasp
from .probe import Probe
from .synflow import synflow

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@frozen
class Measure:
    name: str
    reduce: str  # "sum" | "sum_squared"
    signed: bool
    summary: str


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("grad_norm", "sum", False, "sum over layers of ||dL/dW||_2, mean over batches"),
        Measure("snip", "sum", False, "sum |W * dL/dW|, mean over batches"),
        Measure("grasp", "sum", True, "sum -W * (H dL/dW), mean over batches (signed)"),
        Measure(
            "fisher", "sum", False, "sum over output channels of 1/2 mean_n (sum_xy a * dL/da)^2, mean over batches"
        ),
        Measure("synflow", "sum", False, "sum |W * dR/dW| on |weights| in float64, R = sum of the output for ones"),
        Measure(
            "taylor",
            "sum_squared",
            False,
            "(sum_c beta dL/dbeta + gamma dL/dgamma)^2 of the unit, mean over batches: block-removal Taylor score",
        ),
    )
}


def check_names(names: Sequence[str]) -> tuple[str, ...]:
    """`names` in canonical order; raises SaliencyError for an unknown one."""
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        raise SaliencyError(
            f"unknown saliency metric(s): {', '.join(unknown)}",
            code="E1003",
            help=f"the metrics are {', '.join(MEASURES)}",
        )
    return tuple(n for n in MEASURES if n in names)


def run_measures(
    probe: Probe, names: Sequence[str], progress: Progress | None = None
) -> tuple[dict[str, PerBatch], dict[str, float]]:
    """The measures `names` on `probe`. Returns (measure -> per-batch values, phase -> seconds);
    the first-order measures share one pass, timed as `first_order`."""
    names = check_names(names)
    k = len(probe.batches)
    say = progress or (lambda phase, done, total: None)
    out: dict[str, PerBatch] = {}
    seconds: dict[str, float] = {}
    shared = [n for n in names if n in FORMULAS]
    if shared:
        t = time.perf_counter()
        out.update(first_order(probe, shared, lambda d: say("first_order", d, k)))
        seconds["first_order"] = time.perf_counter() - t
    if "grasp" in names:
        t = time.perf_counter()
        out["grasp"] = grasp(probe, lambda d: say("grasp", d, k))
        seconds["grasp"] = time.perf_counter() - t
    if "synflow" in names:
        t = time.perf_counter()
        out["synflow"] = synflow(probe)
        say("synflow", 1, 1)
        seconds["synflow"] = time.perf_counter() - t
    return {n: out[n] for n in names}, seconds
