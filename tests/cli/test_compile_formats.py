"""`archc compile --format`: phone formats are checked before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli
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
