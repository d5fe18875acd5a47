from __future__ import annotations

import json
from pathlib import Path

from profile_helpers import TINY, run_cli


def test_devices_lists_every_kind() -> None:
    result = run_cli("devices", "--json")
    assert result.exit_code == 0
    rows = {d["name"]: d["kind"] for d in json.loads(result.stdout)}
    assert rows["cpu"] == "measured" and rows["torch-cpu"] == "measured" and rows["s24"] == "modelled"
    assert rows["adb:SERIAL"] == "remote" and rows["qai-hub:DEVICE NAME"] == "remote"
    table = run_cli("devices").output
    assert "modelled figures are estimates" in table
    assert "archc[executorch]" in " ".join(table.replace("│", " ").split())  # text, never rich markup


def test_profile_on_the_modelled_s24_labels_every_figure(tmp_path: Path) -> None:
    result = run_cli(
        "profile", TINY, "--device", "s24", "--size", "64", "64", "--out", tmp_path, "--choice", "enc1=dsconv"
    )
    assert result.exit_code == 0, result.output
    assert "(modelled)" in result.output and "ms modelled" in result.output
    assert "network enc1=dsconv;enc2=naf;dec2=naf;dec1=naf: predicted" in result.output
    data = json.loads((tmp_path / "latency.json").read_text())
    assert data["label"] == "modelled" and data["protocol"]["resolution_assumed"]
    net = data["networks"][0]
    assert net["source"] == "--choice" and abs(net["error_pct"]) < 1.0


def test_profile_json_output() -> None:
    result = run_cli("profile", TINY, "--device", "s24", "--size", "32", "32", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "complete"


def test_an_unknown_device_is_one_message_without_traceback() -> None:
    result = run_cli("profile", TINY, "--device", "cpuu")
    assert result.exit_code == 1
    assert "error[E0801]: unknown device `cpuu`" in result.output and "did you mean `cpu`" in result.output
    assert "Traceback" not in result.output


def test_a_malformed_device_file_points_at_the_key(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[memory]\nbandwidth = 1e9\n")
    result = run_cli("profile", TINY, "--device", "bad", "--devices-dir", tmp_path)
    assert result.exit_code == 1
    assert "bad.toml:2:1" in result.output and "[memory] bandwidth is not a known key" in result.output
    assert "did you mean `bandwidth_bytes_per_s`" in result.output
