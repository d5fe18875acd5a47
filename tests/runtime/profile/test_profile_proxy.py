"""The transformer-count proxy is exact: its block table predicts, for every network, the number
of Restormer blocks counted independently in the built PyTorch module."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import archc
from archc.compiler.space import SearchSpace
from archc.runtime.blocks.restormer import TransformerBlock
from archc.runtime.network.build import build
from archc.runtime.profile.proxy import UNIT, TransformerCount, latency_text
from archc.runtime.search.objectives import latency_matrix, rows_latency

MICRO = Path(__file__).resolve().parents[2] / "fixtures" / "restormer" / "restormer_micro.arch"


def _counted(spec, choice) -> int:  # type: ignore[no-untyped-def]
    return sum(isinstance(m, TransformerBlock) for m in build(spec, choice).modules())


def test_the_proxy_counts_the_restormer_blocks_of_every_sampled_network() -> None:
    spec = archc.parse(MICRO)
    space = SearchSpace.of(spec)
    proxy = TransformerCount.of(spec, space)
    assert proxy.fixed == 1  # the excluded refinement block
    assert proxy.predict({}) == _counted(spec, {}) == 9
    rows = rows_latency(*latency_matrix(space, proxy.predict))
    for idx in [tuple(int(i) for i in r) for r in space.sample(np.random.default_rng(0), 12)]:
        choice = space.decode(idx)
        assert proxy.predict(choice) == rows.one(idx) == _counted(spec, choice)


def test_the_proxy_table_counts_repeats_and_is_labelled_a_proxy() -> None:
    spec = archc.parse(MICRO)
    record = TransformerCount.of(spec).record()
    mid = {r["candidate"]: r["transformer_blocks"] for r in record["table"] if r["slot"] == "mid"}
    assert mid == {"restormer(heads=8)": 2, "naf": 0, "identity": 0}
    assert "proxy" in record["unit"] and "not ms" in UNIT
    assert latency_text(3.0, {"latency_proxy": "transformer-count", "latency_unit": UNIT}).endswith("(proxy, not ms)")
    assert latency_text(3.0, {}) == "3.000 ms"
