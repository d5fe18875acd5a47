from __future__ import annotations

import json
from pathlib import Path

import pytest

from archc.errors import ProfileError
from archc.runtime.profile import calibrate as cal
from archc.runtime.profile.devices import load_model, resolve

from profile_helpers import FAST, TINY, run_cli


def test_fitting_cpu_measurements_predicts_held_out_ones_better_than_the_template(tiny_cpu_run: Path) -> None:
    entries = cal.load_measurements(tiny_cpu_run / "latency.json")
    assert len(entries) == 16  # 8 blocks, fixed, baseline, 6 validated networks
    model, rep = cal.calibrate(load_model("generic"), entries, holdout=0.3, seed=1, new_name="this-cpu")
    assert rep["test"]["n"] == 5 and rep["train"]["n"] == 11
    assert rep["test"]["rmspe_pct"] < rep["start"]["rmspe_pct"]
    assert model.name == "this-cpu" and model.calibration["heldout_fit"]["n"] == 5


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
