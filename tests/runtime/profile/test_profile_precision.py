"""Latency per precision: one block table per precision, combined exactly per slot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import archc
from archc import ArchError
from archc.compiler.space import SearchSpace
from archc.runtime.profile.devices import load_model
from archc.runtime.profile.precision import MixedRowsLatency, mixed_latency, precision_tables, s24_w8a16

from profile_helpers import FAST

TINY = Path(__file__).resolve().parents[3] / "specs" / "nafnet_tiny_precision.arch"
SMALL = """
arch s { width 4 encoder e1: naf encoder e2: naf middle m: naf decoder d2: naf decoder d1: naf }
search over s { slots e1, d1  candidates *: naf | identity  precision *: w8a8 }
"""


def test_modelled_s24_combines_the_tables_of_each_precision(tmp_path: Path) -> None:
    spec = archc.parse(TINY)
    space = SearchSpace.of(spec)
    tables = precision_tables(spec, "s24", ["w8a8", "w8a16"], (64, 64), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"latency_{p}.json" for p in ("fp16", "w8a16", "w8a8")]
    rows = MixedRowsLatency(*mixed_latency(space, tables))
    fp16 = tables["fp16"]
    for i in (0, 77, 255):  # every slot in fp16: the FP16 table's own prediction
        blocks = space.indices_at(i * 81)[:4]
        assert rows.one((*blocks, 0, 0, 0, 0)) == pytest.approx(fp16.predict(space.decode((*blocks, 0, 0, 0, 0))))
    idx = (2, 0, 3, 1, 1, 2, 0, 1)  # enc1 dsconv w8a8, enc2 naf w8a16, dec2 identity fp16, dec1 naf(sca=off) w8a8
    by_hand = fp16.predict({})
    for slot, b, p in zip(space.slots, idx[:4], idx[4:], strict=True):
        table = tables[slot.precisions[p]]
        by_hand += table.net_ms(table.unit(slot, slot.candidates[b])) - fp16.net_ms(fp16.unit(slot, slot.original))
    assert rows.one(idx) == pytest.approx(by_hand)
    assert rows.one((0, 0, 0, 0, 1, 1, 1, 1)) < rows.one((0, 0, 0, 0, 2, 2, 2, 2)) < rows.one((0,) * 8)


def test_w8a16_is_the_w8a8_fit_with_16_bit_activations() -> None:
    w8a8 = load_model("s24-w8a8")
    derived = s24_w8a16(w8a8)
    assert derived.bytes_per_element == 2 and derived.dense_macs_per_s == w8a8.dense_macs_per_s / 2
    assert "not fitted" in derived.description


def test_cpu_measures_the_qdq_graphs(tmp_path: Path) -> None:
    spec = archc.parse(SMALL)
    tables = precision_tables(spec, "cpu", ["w8a8"], (32, 32), tmp_path, protocol=FAST)
    import json

    head = json.loads((tmp_path / "latency_w8a8.json").read_text())
    assert head["precision"] == "w8a8" and head["graphs"] == "w8a8" and head["device"]["kind"] == "measured"
    assert json.loads((tmp_path / "latency_fp16.json").read_text())["graphs"] == "fp32"  # x86 ORT: no FP16 convs
    rows = MixedRowsLatency(*mixed_latency(SearchSpace.of(spec), tables))
    assert np.isfinite(rows(np.array([[0, 0, 0, 0], [0, 1, 1, 1]]))).all()


def test_precision_on_a_device_without_a_model_of_it() -> None:
    with pytest.raises(ArchError, match="precision is not searchable on device `torch-cpu`"):
        precision_tables(archc.parse(SMALL), "torch-cpu", ["w8a8"], (32, 32), None)
