"""Picks of a finished search, checked against plain loops over the evaluations, and the knee rule
on fronts with concave stretches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from archc.errors import SearchError
from archc.runtime.search.pareto import knee, speedup_within
from archc.runtime.search.pick import check_pick, file_stem, pick_index

# (drop dB, latency ms); the first is the baseline (the teacher)
POINTS = [(0.0, 20.0), (0.05, 19.0), (0.12, 16.0), (0.19, 14.0), (0.25, 15.0), (0.6, 10.0), (1.4, 8.0), (0.3, 13.0)]


def _results(points: list[tuple[float, float]] = POINTS) -> dict[str, Any]:
    evals = [{"objectives": {"psnr_drop": d, "latency_ms": lat}} for d, lat in points]
    return {"evaluations": evals, "baseline": evals[0]}


@pytest.mark.parametrize("limit", [0.0, 0.05, 0.1, 0.12, 0.2, 0.29, 0.3, 1.0, 5.0])
def test_drop_pick_is_the_fastest_network_within_the_limit(limit: float) -> None:
    within = [(lat, d, i) for i, (d, lat) in enumerate(POINTS) if d <= limit]
    assert pick_index(_results(), f"drop<={limit}") == min(within)[2]


@pytest.mark.parametrize("wanted", [1.0, 1.25, 1.4, 1.5, 2.0, 2.5])
def test_speedup_pick_is_the_least_drop_at_that_speed(wanted: float) -> None:
    fast = [(d, lat, i) for i, (d, lat) in enumerate(POINTS) if 20.0 / lat >= wanted]
    assert pick_index(_results(), f"speedup>={wanted}") == min(fast)[2]


def test_a_pick_nothing_satisfies_names_the_best_available() -> None:
    with pytest.raises(SearchError) as err:
        pick_index(_results(), "speedup>=3")
    assert "#6: 2.50x, 1.400 dB drop" in str(err.value.diagnostics[0].help)
    with pytest.raises(SearchError) as err:
        pick_index(_results([(0.2, 20.0), (0.5, 10.0)]), "drop<=0.1")
    assert "#0" in str(err.value.diagnostics[0].help) and "0.200 dB" in str(err.value.diagnostics[0].help)


def test_other_picks_and_malformed_ones() -> None:
    r = _results()
    assert pick_index(r, "fastest") == 6
    assert pick_index(r, "best-under=14.5") == 3
    assert pick_index(r, "3") == 3
    for bad in ("drop<=x", "speedup>=", "nearest", "99"):
        with pytest.raises(SearchError):
            pick_index(r, bad)
    with pytest.raises(SearchError):
        check_pick("drop<=abc")
    assert check_pick(" drop<=0.3 ") == "drop<=0.3"
    assert file_stem("drop<=0.3") == "drop_le_0p3" and file_stem("speedup>=1.5") == "speedup_ge_1p5"
    assert file_stem("drop<=-0.01") == "drop_le_m0p01" and file_stem("best-under=2e-3") == "best_under_2em3"


def test_speedup_within_reports_the_fastest_within_each_drop() -> None:
    pts = np.array(POINTS)
    got = speedup_within(pts, 20.0, (0.1, 0.2, 0.5))
    assert got["0.1"] == {"index": 1, "speedup": pytest.approx(20 / 19), "psnr_drop": 0.05}
    assert got["0.2"]["index"] == 3 and got["0.5"]["index"] == 7
    assert speedup_within(pts + [1.0, 0.0], 20.0, (0.1,)) == {"0.1": None}


def test_the_knee_lies_on_the_ideal_side_of_the_chord() -> None:
    # Normalised (drop, latency), the chord runs from the fastest (1, 0) to the most accurate
    # (0, 1). The point (0.6, 0.6) bulges away from the ideal corner (a concave stretch) and is the
    # farthest from the chord; the knee is the one on the ideal side, (0.05, 0.85).
    front = np.array([[1.0, 0.0], [0.6, 0.6], [0.05, 0.85], [0.0, 1.0]]) * [2.0, 10.0] + [0.0, 10.0]
    assert knee(front) == 2


def test_a_wholly_concave_front_has_its_knee_at_an_end() -> None:
    t = np.linspace(0, np.pi / 2, 9)
    front = np.stack([np.cos(t), np.sin(t)], axis=1)  # a quarter circle bulging away from (0, 0)
    assert knee(front) in (0, len(front) - 1)


def test_the_knee_of_a_convex_front_is_its_bend() -> None:
    front = np.array([[0.0, 10.0], [0.1, 6.0], [0.2, 5.0], [0.5, 4.8], [1.0, 4.7]])
    # normalised: (0, 1), (0.1, 0.245), (0.2, 0.057), (0.5, 0.019), (1, 0); 1 - x - y is largest at #2
    assert knee(front) == 2
