"""`archc search` labels its latency objective by what the device says it is, not by its name:
a phone (remote, measured there) is never called modelled, a cost model always is."""

from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc.runtime.pipeline.search_inputs import block_latency as _latency
from archc.runtime.profile import run as run_mod
from archc.runtime.profile.backend import Profiler
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.measure import Measurement
from archc.runtime.profile.workload import Workload

TINY = Path(__file__).resolve().parents[2] / "specs" / "nafnet_tiny.arch"


class StandInPhone(Profiler):
    """A phone over adb, answering with the s24 model's figures as if it had run them."""

    kind = "remote"
    name = "adb:STANDIN"

    def __init__(self) -> None:
        self.inner = resolve("s24")

    def profile(self, workload: Workload) -> Measurement:
        return self.inner.profile(workload)


def test_a_phone_is_measured_not_modelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_mod, "resolve", lambda *a: StandInPhone())
    _, source = _latency(archc.parse(TINY), None, "adb:STANDIN", None, tmp_path, (32, 32))
    assert source == "predicted from measured block table"


def test_a_cost_model_is_modelled(tmp_path: Path) -> None:
    _, source = _latency(archc.parse(TINY), None, "s24", None, tmp_path, (32, 32))
    assert source == "modelled"
