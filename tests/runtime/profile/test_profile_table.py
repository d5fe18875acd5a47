from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import archc
from archc.errors import ProfileError
from archc.runtime.profile import run as run_mod
from archc.runtime.profile.measure import Measurement
from archc.runtime.profile.run import Request, execute
from archc.runtime.profile.table import table_from_record
from archc.runtime.profile.workload import Workload

from profile_helpers import TINY, ModelledStandIn


def test_latency_json_of_a_cpu_run(tiny_cpu_run: Path) -> None:
    data = json.loads((tiny_cpu_run / "latency.json").read_text())
    assert data["format"] == "archc-latency/1" and data["status"] == "complete" and data["error"] is None
    assert data["label"] == "measured" and data["device"]["name"] == "cpu" and data["input_size"] == [32, 32]
    assert data["protocol"]["threads"] == 1 and "onnxruntime" in data["protocol"]
    assert len(data["blocks"]) == 16  # 4 slots x 4 candidates
    blocks = {k for k in data["measurements"] if not k.startswith(("fixed", "baseline", "net:"))}
    assert blocks == {
        f"{c}@{s}" for c in ("naf", "naf(sca=off)", "dsconv", "identity") for s in ("8x32x32", "16x16x16")
    }  # enc1/dec1 and enc2/dec2 share shapes
    row = next(r for r in data["blocks"] if r["slot"] == "enc2" and r["candidate"] == "dsconv")
    assert row["feature"] == [16, 16, 16] and row["level"] == 1
    assert row["net_ms"] == pytest.approx(row["block_ms"] - row["empty_ms"])
    assert all(fig["label"] == "measured" for fig in data["measurements"].values())


def test_the_table_predicts_the_baseline_exactly(tiny_cpu_run: Path) -> None:
    data = json.loads((tiny_cpu_run / "latency.json").read_text())
    table = table_from_record(archc.parse(TINY), data)
    assert table.predict({}) == pytest.approx(data["baseline"]["latency_ms"])
    assert table.overhead_ms == pytest.approx(data["correction"]["overhead_ms"])
    v = data["validation"]
    assert v["n"] == 6 and 0.0 <= v["within_10pct"] <= 1.0 and v["rmspe_pct"] >= 0
    assert len(data["networks"]) == 6 and all(n["source"] == "validate" for n in data["networks"])


def _sums(data: dict[str, Any], choice: dict[str, str]) -> tuple[float, float]:
    """(the baseline's block sum, the network's) from latency.json's rows, slots not named kept."""
    rows = {(r["slot"], r["index"]): r["net_ms"] for r in data["blocks"]}
    slots = sorted({r["slot"] for r in data["blocks"]})
    names = {(r["slot"], r["candidate"]): r["index"] for r in data["blocks"]}
    picked = [names[(s, choice[s])] if s in choice else 0 for s in slots]
    return sum(rows[(s, 0)] for s in slots), sum(rows[(s, i)] for s, i in zip(slots, picked, strict=True))


def test_the_baselines_unexplained_time_is_spread_over_the_blocks(tiny_cpu_run: Path) -> None:
    """A new table scales every block sum so the baseline is exact; a record written before the
    proportional correction keeps adding the difference as a constant; both figures are checked
    against sums taken from latency.json's rows."""
    data = json.loads((tiny_cpu_run / "latency.json").read_text())
    spec = archc.parse(TINY)
    choice = {"enc1": "dsconv", "dec1": "identity"}
    blocks = {s.name: next(b for b in s.candidates if b.canonical == choice[s.name])
              for s in spec.search.slots if s.name in choice}
    fixed, base = data["fixed"]["latency_ms"], data["baseline"]["latency_ms"]
    base_sum, net_sum = _sums(data, choice)
    assert data["correction"]["kind"] == "proportional"
    assert data["correction"]["scale"] == pytest.approx((base - fixed) / base_sum)
    table = table_from_record(spec, data)
    assert table.predict({}) == pytest.approx(base)
    assert table.predict(blocks) == pytest.approx(fixed + net_sum * (base - fixed) / base_sum)
    old = {**data, "correction": {"kind": "additive", "overhead_ms": data["correction"]["overhead_ms"]}}
    additive = table_from_record(spec, old)
    assert additive.predict({}) == pytest.approx(base)
    assert additive.predict(blocks) == pytest.approx(fixed + net_sum + (base - fixed - base_sum))
    assert table.predict(blocks, correction="additive") == pytest.approx(additive.predict(blocks))
    v = data["validation"]
    assert {"uncorrected", "additive", "proportional"} <= v.keys() and v["correction"] == "proportional"
    assert v["proportional"]["rmspe_pct"] == pytest.approx(v["rmspe_pct"])


def test_a_modelled_device_is_additive_over_blocks() -> None:
    """HW-NAS-Bench's check on a device where it must hold: the cost model sums over nodes."""
    record, table = execute(Request(archc.parse(TINY), "s24", (64, 64), validate_n=5))
    assert record.data["label"] == "modelled"
    assert record.data["validation"]["rmspe_pct"] < 1.0


class Flaky(ModelledStandIn):
    """The s24 model, failing after `ok` workloads (a phone unplugged mid-run)."""

    name = "flaky"

    def __init__(self, ok: int) -> None:
        super().__init__()
        self.ok = ok
        self.calls = 0

    def profile(self, workload: Workload) -> Measurement:
        self.calls += 1
        if self.calls > self.ok:
            raise ProfileError("device went away", code="E0813")
        return self.inner.profile(workload)


def test_a_failure_keeps_what_was_measured_and_resume_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = Flaky(3)
    monkeypatch.setattr(run_mod, "resolve", lambda *a: flaky)
    req = Request(archc.parse(TINY), "flaky", (32, 32), tmp_path)
    with pytest.raises(ProfileError, match="device went away"):
        execute(req)
    data: dict[str, Any] = json.loads((tmp_path / "latency.json").read_text())
    assert data["status"] == "failed" and data["error"] == "device went away"
    assert len(data["measurements"]) == 3

    again = Flaky(100)
    monkeypatch.setattr(run_mod, "resolve", lambda *a: again)
    execute(Request(archc.parse(TINY), "flaky", (32, 32), tmp_path, resume=True))
    data = json.loads((tmp_path / "latency.json").read_text())
    assert data["status"] == "complete" and again.calls == len(data["measurements"]) - 3
