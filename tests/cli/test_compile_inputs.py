"""`archc compile` checks every path it is given before any work, loads a checkpoint whatever it
is asked to write, and writes nothing when a checkpoint does not fit."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from archc.cli import cli

from helpers import FIXTURES, SPECS

TINY = str(SPECS / "nafnet_tiny.arch")
TINY_STATE = str(FIXTURES / "tiny_state.pt")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_a_missing_weights_file_is_an_error_even_without_out() -> None:
    result = invoke("compile", TINY, "--weights", "/no/such.pth")
    assert result.exit_code == 1
    assert "--weights /no/such.pth does not exist" in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""  # refused before the summary


def test_missing_surrogates_and_calibration_folders_are_errors_before_any_work(tmp_path: Path) -> None:
    result = invoke("compile", TINY, "--surrogates", str(tmp_path / "none"), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1 and "E1104" in result.stderr
    result = invoke(
        "compile", TINY, "--precision", "int8", "--calibration", str(tmp_path / "none"), "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "o").exists()


def test_weights_are_loaded_and_named_when_nothing_is_written() -> None:
    result = invoke("compile", TINY, "--weights", TINY_STATE, "--size", "32", "32")
    assert result.exit_code == 0, result.output
    assert f"weights: {TINY_STATE} fit the network" in result.stdout


def test_a_checkpoint_that_does_not_fit_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("compile", str(SPECS / "nafnet_small.arch"), "--weights", TINY_STATE, "--out", str(out))
    assert result.exit_code == 1
    assert "do not fit this network" in result.stderr and "Traceback" not in result.output
    assert not out.exists() or list(out.iterdir()) == []
