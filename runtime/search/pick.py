"""Picking one network of a finished search (`search.json`), as `archc export --pick` and
`archc run --pick` name it:

- `knee`: the knee of the front (rule in `pareto.py`);
- `fastest`: the lowest latency;
- `drop<=X`: the best speed-up within X dB of the teacher (the fastest network with PSNR drop <= X;
  ties: the smaller drop);
- `speedup>=X`: the least drop among networks at least X times faster than the baseline (ties: the
  faster);
- `best-under=MS`: the least drop within a latency budget of MS;
- `INDEX`: a position in `evaluations`.

Every rule reads the evaluated networks only (drops and latencies as the search recorded them).
A pick that no network satisfies is a user error that names the best available instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from archc.errors import SearchError

from .pareto import best_under, best_within_drop, knee

PICKS = "knee, fastest, drop<=DB, speedup>=X, best-under=MS or an index"


def _points(results: Mapping[str, Any]) -> np.ndarray:
    return np.array(
        [[e["objectives"]["psnr_drop"], e["objectives"]["latency_ms"]] for e in results["evaluations"]], dtype=float
    ).reshape(-1, 2)


def baseline_latency(results: Mapping[str, Any]) -> float | None:
    base = results.get("baseline")
    return float(base["objectives"]["latency_ms"]) if base else None


def _number(pick: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SearchError(
            f"cannot read `{text}` in the pick `{pick}` as a number", code="E0722", help=f"use {PICKS}"
        ) from None


def _describe(results: Mapping[str, Any], i: int) -> str:
    o = results["evaluations"][i]["objectives"]
    base = baseline_latency(results)
    speed = f"{base / o['latency_ms']:.2f}x, " if base else ""
    return f"#{i}: {speed}{o['psnr_drop']:.3f} dB drop, {o['latency_ms']:.3f} ms"


def _within_drop(results: Mapping[str, Any], pick: str, value: str) -> int:
    limit = _number(pick, value)
    pts = _points(results)
    i = best_within_drop(pts, limit)
    if i is None:
        least = int(np.lexsort((pts[:, 1], pts[:, 0]))[0])
        raise SearchError(
            f"no evaluated network is within {limit:g} dB of the teacher",
            code="E0723",
            help=f"the least drop found is {_describe(results, least)}; raise X or search longer",
        )
    return i


def _at_speedup(results: Mapping[str, Any], pick: str, value: str) -> int:
    wanted = _number(pick, value)
    base = baseline_latency(results)
    if base is None:
        raise SearchError(
            "the search has no baseline evaluation to measure a speed-up against",
            code="E0724",
            help="pick by `best-under=MS` instead",
        )
    pts = _points(results)
    ok = np.flatnonzero(base / pts[:, 1] >= wanted)
    if len(ok) == 0:
        fastest = int(np.argmin(pts[:, 1]))
        raise SearchError(
            f"no evaluated network is {wanted:g}x faster than the baseline",
            code="E0724",
            help=f"the fastest found is {_describe(results, fastest)}; lower X or search longer",
        )
    return int(ok[np.lexsort((pts[ok, 1], pts[ok, 0]))[0]])


def _under(results: Mapping[str, Any], pick: str, value: str) -> int:
    budget = _number(pick, value)
    i = best_under(_points(results), budget)
    if i is None:
        raise SearchError(
            f"no evaluated network runs within {budget:g} ms", code="E0721", help="raise the budget or pick `fastest`"
        )
    return i


_PREFIXED: dict[str, Callable[[Mapping[str, Any], str, str], int]] = {
    "drop<=": _within_drop,
    "speedup>=": _at_speedup,
    "best-under=": _under,
}


def pick_index(results: Mapping[str, Any], pick: str) -> int:
    """The position in `results["evaluations"]` that `pick` names (module docstring)."""
    pick = pick.strip()
    if not results.get("evaluations"):
        raise SearchError("the search evaluated no network", code="E0722", help="run the search again")
    if pick == "knee":
        return knee(_points(results))
    if pick == "fastest":
        return int(np.argmin(_points(results)[:, 1]))
    for prefix, rule in _PREFIXED.items():
        if pick.startswith(prefix):
            return rule(results, pick, pick[len(prefix) :])
    if pick.isdigit() and int(pick) < len(results["evaluations"]):
        return int(pick)
    raise SearchError(
        f"cannot pick `{pick}`", code="E0722", help=f"use {PICKS} (an index below {len(results['evaluations'])})"
    )


def check_pick(pick: str) -> str:
    """`pick` when its form is valid (before any stage runs), else a SearchError."""
    text = pick.strip()
    if text in ("knee", "fastest") or text.isdigit():
        return text
    for prefix in _PREFIXED:
        if text.startswith(prefix):
            _number(text, text[len(prefix) :])
            return text
    raise SearchError(f"cannot pick `{pick}`", code="E0722", help=f"use {PICKS}")


def file_stem(pick: str) -> str:
    """A form of a pick fit for file and network names (`drop<=0.3` -> `drop_le_0p3`, `-` -> `m`)."""
    for a, b in (("best-under", "best_under"), ("<=", "_le_"), (">=", "_ge_"), ("=", "_"), (".", "p"), ("-", "m")):
        pick = pick.replace(a, b)
    return re.sub(r"[^A-Za-z0-9_]", "_", pick)
