"""`archc profile --fit N`: the block sums' scale fitted on the baseline and N more whole networks.

A stand-in device, the s24 cost model (additive over blocks, so every network's time is exactly
its fixed part plus its block sum), except that the baseline comes out 30 % slow, as a burst of
load on a shared machine does. With the baseline alone, that burst scales every prediction; with
four more networks the median ratio is 1 and the predictions are exact again."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

import archc
from archc.cli.profile import summary_lines
from archc.runtime.profile.measure import Measurement
from archc.runtime.profile.run import Request
from archc.runtime.profile.table import table_from_record
from archc.runtime.profile.workload import Workload

from profile_helpers import TINY, ModelledStandIn, execute_on

BURST = 1.3


class SlowBaseline(ModelledStandIn):
    """The s24 model, with the baseline network timed `BURST` times slower."""

    name = "slow-baseline"

    def profile(self, workload: Workload) -> Measurement:
        m = self.inner.profile(workload)
        return m.scaled(BURST) if workload.key.startswith("baseline@") else m


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    return execute_on(SlowBaseline(), Request(archc.parse(TINY), "slow-baseline", (32, 32), validate_n=6, fit_n=4))


def _sum(data: dict[str, Any], choice: str) -> float:
    """A network's block sum from latency.json's rows (slots not named keep the original)."""
    rows = {(r["slot"], r["candidate"]): r["net_ms"] for r in data["blocks"]}
    named = dict(item.split("=", 1) for item in choice.split(";"))
    slots = {r["slot"]: r["candidate"] for r in data["blocks"] if r["index"] == 0}
    return sum(rows[(s, named.get(s, original))] for s, original in slots.items())


def test_the_scale_is_the_median_ratio_over_the_baseline_and_the_fit_networks(fitted: dict[str, Any]) -> None:
    fixed, base = fitted["fixed"]["latency_ms"], fitted["baseline"]["latency_ms"]
    fit = fitted["fit"]
    assert len(fit) == 4 and fitted["correction"]["fitted_on"] == 5
    assert all(r["block_sum_ms"] == pytest.approx(_sum(fitted, r["choice"])) for r in fit)
    base_sum = sum(r["net_ms"] for r in fitted["blocks"] if r["index"] == 0)
    ratios = [(base - fixed) / base_sum] + [(r["measured_ms"] - fixed) / r["block_sum_ms"] for r in fit]
    assert ratios[0] > 1.2 and all(x == pytest.approx(1.0, abs=0.02) for x in ratios[1:])
    assert fitted["correction"]["scale"] == pytest.approx(statistics.median(ratios))
    # the search rebuilds the same table from the record
    assert table_from_record(archc.parse(TINY), fitted).scale == pytest.approx(fitted["correction"]["scale"])


def test_validation_is_held_out_and_the_fit_undoes_the_burst(fitted: dict[str, Any]) -> None:
    fit = {r["choice"] for r in fitted["fit"]}
    drawn = [n["choice"] for n in fitted["networks"] if n["source"] == "validate"]
    assert len(drawn) == 6 and not fit & set(drawn) and fitted["baseline"]["choice"] not in drawn
    v = fitted["validation"]
    assert v["rmspe_pct"] < 1.0 and v["within_10pct"] == 1.0
    assert v["baseline_scaled"]["rmspe_pct"] > 10.0  # the burst, spread over every prediction


def test_the_summary_names_the_fit(fitted: dict[str, Any]) -> None:
    text = "\n".join(summary_lines(fitted))
    assert "scale fitted on 4 more networks modelled end to end" in text
    assert "the median over the baseline and 4 more networks" in text
    assert "with the blocks scaled by the baseline alone" in text
