"""`archc data synth` writes a set and prints its summary; user errors surface as DataError."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archc.cli.data import data_cmd
from archc.errors import DataError

ARGS = ["--images", "4", "--crops-per-image", "1", "--test-crops-per-image", "1", "--crop", "48", "--seed", "2"]


def test_synth_writes_a_set_and_prints_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(data_cmd, ["synth", "--out", str(tmp_path / "s"), *ARGS])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "s" / "meta.json").read_text())
    assert meta["seed"] == 2 and meta["splits"]["test"]["pairs"] == 3
    assert "test" in result.output and f"{meta['splits']['test']['mean_psnr_db']:.2f}" in result.output


def test_synth_refuses_a_used_folder(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "x.txt").write_text("")
    result = CliRunner().invoke(data_cmd, ["synth", "--out", str(tmp_path / "s"), *ARGS])
    assert isinstance(result.exception, DataError)


def test_synth_test_photos_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(data_cmd, ["synth", "--out", str(tmp_path / "s"), *ARGS, "--test-photos", "astronaut"])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "s" / "meta.json").read_text())
    assert meta["splits"]["test"]["sources"] == ["astronaut"]
    assert len(meta["splits"]["train"]["sources"]) == 3
