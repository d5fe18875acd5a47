"""`--format` on compile, export and run: phone formats are checked before anything is written, and a
resumed run repeats them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli
from archc.cli.run import resume_line
from archc.compiler import mobile

from helpers import SPECS


def _compile(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["compile", str(SPECS / "nafnet_tiny.arch"), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "onnx,tflight"), "did you mean `tflite`?"),
        (("--format", "pte", "--precision", "fp16"), "`.pte` files have no `fp16` precision"),
    ],
)
def test_bad_formats_fail_before_writing(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    if "pte" in args and not mobile.available("pte"):
        pytest.skip(f"needs {mobile.install_command('pte')}")
    code, output = _compile("--out", str(tmp_path / "out"), *args)
    assert code == 1 and message in output and "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_a_missing_runtime_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(mobile.RUNTIMES, "tflite", ("archc_not_an_installed_module", "litert"))
    code, output = _compile("--out", str(tmp_path / "out"), "--format", "onnx,tflite")
    assert code == 1 and "pip install 'archc[litert]'" in output and "Traceback" not in output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["export", "run"])
def test_export_and_run_refuse_a_missing_runtime_before_any_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setitem(mobile.RUNTIMES, "pte", ("archc_not_an_installed_module", "executorch"))
    first = str(tmp_path / "search") if command == "export" else str(SPECS / "nafnet_tiny.arch")
    args = [command, first, "--out", str(tmp_path / "out"), "--format", "onnx,pte"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "pip install 'archc[executorch]'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_export_names_the_near_format() -> None:
    result = CliRunner().invoke(cli, ["export", "RUN", "--out", "OUT", "--format", "tflight"])
    assert result.exit_code != 0 and "did you mean `tflite`?" in result.output


def test_a_resumed_run_repeats_the_formats() -> None:
    line = resume_line("a.arch", "runs/r", {"formats": ("onnx", "pte"), "device": "cpu"})
    assert line == "archc run a.arch --out runs/r --format onnx,pte"
    assert "--format" not in resume_line("a.arch", "runs/r", {"formats": ("onnx",)})
