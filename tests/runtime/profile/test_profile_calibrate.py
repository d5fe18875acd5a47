from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from attrs import evolve

from archc.errors import ProfileError
from archc.runtime.profile import calibrate as cal
from archc.runtime.profile import fit
from archc.runtime.profile.costmodel import DeviceModel, theta, with_theta
from archc.runtime.profile.devices import load_model, resolve

from profile_helpers import FAST, TINY, run_cli


def _truth(start: DeviceModel) -> DeviceModel:
    """A device unlike `start`: every fitted coefficient moved by its own factor (within the fit's bounds)."""
    factors = np.array([1.8, 0.6, 2.5, 0.7, 1.5, 3.0, 0.5])
    return with_theta(start, theta(start, fit.DEFAULT_FIT) * factors, fit.DEFAULT_FIT)


def test_fitting_recovers_a_known_device_and_predicts_held_out_workloads(tiny_cpu_run: Path) -> None:
    start = load_model("generic")
    truth = _truth(start)
    measured = cal.load_measurements(tiny_cpu_run / "latency.json")
    tables = cal.samples(measured, truth)
    exact = [evolve(e, latency_ms=1e3 * s.table.total(truth)) for e, s in zip(measured, tables, strict=True)]
    model, rep = cal.calibrate(start, exact, holdout=0.3, seed=1, new_name="this-cpu")
    assert rep["test"]["n"] == 5 and rep["train"]["n"] == 11
    assert rep["start"]["rmspe_pct"] > 20  # the template is far from the truth
    assert rep["test"]["rmspe_pct"] < 1 and rep["test"]["within_10pct"] == 1.0
    assert model.name == "this-cpu" and model.calibration["heldout_fit"]["n"] == 5


def test_fitting_real_cpu_measurements_never_fits_them_worse_than_the_template(tiny_cpu_run: Path) -> None:
    entries = cal.load_measurements(tiny_cpu_run / "latency.json")
    assert len(entries) == 16  # 8 blocks, fixed, baseline, 6 validated networks
    start = load_model("generic")
    model, rep = cal.calibrate(start, entries, holdout=0.0, seed=1)
    before = fit.report(cal.samples(entries, start), start)
    assert rep["train"]["n"] == 16 and rep["test"] is None
    assert rep["train"]["rmspe_pct"] <= before["rmspe_pct"] + 1e-6


def test_calibrate_cli_writes_a_usable_device_file(tiny_cpu_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine.toml"
    result = run_cli(
        "calibrate",
        "--device",
        "generic",
        "--measurements",
        tiny_cpu_run / "latency.json",
        "--out",
        out,
        "--holdout",
        "0.3",
    )
    assert result.exit_code == 0, result.output
    assert "fit (held out): 5 workloads" in result.output and "modelled device `mine`" in result.output
    device = resolve(str(out))
    assert device.kind == "modelled" and device.name == "mine"


def test_a_measurements_file_with_specs_blocks_and_splits(tmp_path: Path) -> None:
    items = [
        {"spec": str(TINY), "choice": "enc1=dsconv", "size": [32, 32], "latency_ms": 0.5, "split": "test"},
        {"spec": str(TINY), "size": [32, 32], "latency_ms": 0.7},
        {"block": "naf(sca=off)", "channels": 8, "size": [16, 16], "latency_ms": 0.1, "split": "train"},
    ]
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"measurements": items}))
    entries = cal.load_measurements(path)
    train, test = cal.split(entries, holdout=0.0, seed=0)
    assert [e.latency_ms for e in test] == [0.5] and len(train) == 2
    resolve("cpu", FAST)  # the file names workloads only: nothing was timed


def test_a_malformed_measurement_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"measurements": [{"block": "naf", "channels": 8, "size": [16], "latency_ms": 1}]}))
    with pytest.raises(ProfileError, match="measurement 1: `size` must be"):
        cal.load_measurements(path)
    path.write_text(json.dumps({"measurements": [{"net": "resnet5", "latency_ms": 1}]}))
    with pytest.raises(ProfileError) as info:
        cal.load_measurements(path)
    assert "unknown calibration network `resnet5`" in info.value.render()
    assert "did you mean `resnet50`" in info.value.render()
