"""`archc profile --swaps`: every single-slot swap timed in the network, predictions from those deltas.

A stand-in device, the s24 cost model (additive over blocks), plus what a block alone never shows:
every slot that holds something other than its original block costs `EDGE` ms more inside the
network (a layout change at a delegate's edge, say). The block table cannot see that cost; the
swaps measure it. The baseline's first timing comes out 30 % slow, as a burst of load does: its
timings beside each swap outvote it."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import archc
from archc.cli.profile import summary_lines
from archc.compiler.frontend import choice_of
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.measure import Measurement
from archc.runtime.profile.run import Request
from archc.runtime.profile.table import SWAPS, network_workload, table_from_record
from archc.runtime.profile.workload import Workload

from profile_helpers import TINY, ModelledStandIn, execute_on, run_cli

EDGE = 0.25  # ms per changed slot, inside the network only
BURST = 1.3


class EdgeCost(ModelledStandIn):
    """The s24 model; networks pay EDGE per changed slot; the baseline's first timing is slow."""

    name = "edge-cost"

    def __init__(self) -> None:
        super().__init__()
        self.baselines = 0

    def profile(self, workload: Workload) -> Measurement:
        m = self.inner.profile(workload)
        if workload.key.startswith("baseline@"):
            self.baselines += 1
            return m.scaled(BURST) if self.baselines == 1 else m
        if workload.key.startswith("net:"):
            edges = EDGE * changed(workload.key.split("@")[0].removeprefix("net:"))
            return m.scaled((m.median_ms + edges) / m.median_ms)
        return m


def changed(choice: str) -> int:
    spec = archc.parse(TINY)
    picked = choice_of(spec, choice)
    return sum(1 for s in spec.search.slots if picked.get(s.name, s.original).canonical != s.original.canonical)


def truth(choice: str) -> float:
    """What the stand-in measures for a network, computed from the model and the edge cost alone."""
    spec = archc.parse(TINY)
    ms = resolve("s24").profile(network_workload(spec, choice_of(spec, choice), (32, 32))).median_ms
    return ms + EDGE * changed(choice)


@pytest.fixture(scope="module")
def swapped() -> dict[str, Any]:
    return execute_on(EdgeCost(), Request(archc.parse(TINY), "edge-cost", (32, 32), validate_n=6, swaps=True))


def test_every_single_slot_swap_is_timed_once(swapped: dict[str, Any]) -> None:
    spec = archc.parse(TINY)
    rows = swapped["swaps"]["rows"]
    expected = {(s.name, c.canonical) for s in spec.search.slots for c in s.candidates[1:]}
    assert {(r["slot"], r["candidate"]) for r in rows} == expected and len(rows) == len(expected) == 12
    # the baseline: the table's timing, then one before every swap and one after the last
    base = swapped["swaps"]["baseline_ms"]
    assert len(base) == 14 and base[0] == pytest.approx(BURST * base[1])
    assert all(b == pytest.approx(base[1]) for b in base[1:])
    assert swapped["swaps"]["baseline_median_ms"] == pytest.approx(base[1])
    assert swapped["correction"]["kind"] == SWAPS


def test_predictions_add_the_in_network_deltas(swapped: dict[str, Any]) -> None:
    spec = archc.parse(TINY)
    table = table_from_record(spec, swapped)
    for row in swapped["swaps"]["rows"]:  # a single swap is predicted as measured
        assert table.predict(choice_of(spec, row["choice"])) == pytest.approx(truth(row["choice"]), rel=1e-6)
    slots = list(spec.search.slots)
    every = list(itertools.product(*[[c.canonical for c in s.candidates] for s in slots]))  # 256 networks
    for k in np.random.default_rng(0).choice(len(every), 24, replace=False):  # 24 of them (each costs an export)
        choice = ";".join(f"{s.name}={c}" for s, c in zip(slots, every[k], strict=True))
        assert table.predict(choice_of(spec, choice)) == pytest.approx(truth(choice), rel=1e-6)


def test_validation_reports_the_swaps_beside_the_block_table(swapped: dict[str, Any]) -> None:
    v = swapped["validation"]
    assert v["correction"] == SWAPS and v["within_10pct"] == 1.0 and v["rmspe_pct"] < 1e-6
    assert v["proportional"]["rmspe_pct"] > 1.0  # the block table cannot see the edge cost
    text = "\n".join(summary_lines(swapped))
    assert "12 single-slot swaps modelled in the network" in text
    assert "with the blocks scaled:" in text


def test_the_command_line_flag_runs_on_a_measured_device(tmp_path: Any) -> None:
    from profile_helpers import FAST_FLAGS

    res = run_cli(
        "profile",
        TINY,
        "--device",
        "cpu",
        "--size",
        "32",
        "32",
        "--swaps",
        "--validate",
        "2",
        *FAST_FLAGS,
        "--out",
        tmp_path,
    )
    assert res.exit_code == 0, res.output
    assert "12 single-slot swaps measured in the network" in res.output
    assert "from the in-network swaps" not in res.output  # it is the table's own correction
    assert (tmp_path / "latency.json").is_file()


class Drifting(ModelledStandIn):
    """The s24 model on a machine that slows by `DRIFT` with every timing."""

    name = "drifting"
    DRIFT = 0.01

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def profile(self, workload: Workload) -> Measurement:
        self.calls += 1
        return self.inner.profile(workload).scaled(1 + self.DRIFT * self.calls)


def test_each_delta_is_taken_beside_its_own_baseline_timings() -> None:
    data = execute_on(Drifting(), Request(archc.parse(TINY), "drifting", (32, 32), swaps=True))
    base = truth("")
    first, last = data["swaps"]["baseline_ms"][1], data["swaps"]["baseline_ms"][-1]
    assert last / first > 1.2  # the machine slowed by a fifth over the sweep
    for row in data["swaps"]["rows"]:
        true_delta = truth(row["choice"]) - EDGE * changed(row["choice"]) - base
        # within 3 % of the baseline, where the table's first baseline timing would be off by up to 25 %
        assert abs(row["delta_ms"] - true_delta) < 0.03 * base, row


def test_the_search_prices_networks_with_the_swaps(swapped: dict[str, Any]) -> None:
    """The search splits a table's predictor into a constant and per-slot deltas: from a swaps
    record those are the baseline's median and the measured deltas themselves."""
    from archc.compiler.space import SearchSpace
    from archc.runtime.search.objectives import latency_matrix

    spec = archc.parse(TINY)
    space = SearchSpace.of(spec)
    base, matrix = latency_matrix(space, table_from_record(spec, swapped).predict)
    assert base == pytest.approx(swapped["swaps"]["baseline_median_ms"])
    for row in swapped["swaps"]["rows"]:
        i = [s.name for s in space.slots].index(row["slot"])
        c = [b.canonical for b in space.slots[i].candidates].index(row["candidate"])
        assert matrix[i, c] == pytest.approx(row["delta_ms"])
