"""Re-pricing search fronts on one latency: hypervolume against a shared reference point and the
best speed-up within a PSNR-drop limit, checked against areas worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import archc
from archc.runtime.profile.proxy import TransformerCount
from archc.runtime.search.reprice import best_speedup, compare, reprice

MICRO = Path(__file__).resolve().parents[2] / "fixtures" / "restormer" / "restormer_micro.arch"


def _results(fronts: list[tuple[str, float]]) -> dict[str, Any]:
    evals = [
        {
            "canonical": c,
            "choice": dict(p.split("=") for p in c.split(";") if p),
            "objectives": {"psnr_drop": d, "latency_ms": 0.0},
        }
        for c, d in fronts
    ]
    return {"evaluations": evals, "pareto": list(range(len(evals)))}


def test_fronts_are_scored_on_the_pricers_latency() -> None:
    spec = archc.parse(MICRO)
    price = TransformerCount.of(spec).predict  # any additive pricer: here the block count
    a = reprice("a", _results([("mid=identity", 0.1), ("mid=identity;enc1=identity", 0.4)]), spec, price)
    b = reprice("b", _results([("enc1=identity", 0.2)]), spec, price)
    assert a.baseline_ms == 9 and list(a.latency_ms) == [7, 6] and list(b.latency_ms) == [8]
    assert best_speedup(a, 0.3) == pytest.approx(9 / 7) and best_speedup(b, 0.1) is None
    out = compare([a, b], max_drop=0.3)
    ref = out["reference_point"]
    assert ref == {"psnr_drop": pytest.approx(0.44), "latency_ms": 9}
    # a: (0.1, 7) and (0.4, 6) -> 0.3 x 2 + 0.04 x 3; b: (0.2, 8) -> 0.24 x 1
    hv_a, hv_b = 0.3 * 2 + 0.04 * 3, 0.24 * 1
    assert out["fronts"][0]["hypervolume"] == pytest.approx(hv_a)
    assert out["fronts"][1]["hypervolume_ratio"] == pytest.approx(hv_b / hv_a)
