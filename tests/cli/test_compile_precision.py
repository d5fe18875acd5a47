"""`archc compile --precision int8 | w8a16`: calibrated QDQ ONNX, and clear errors before any file."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from click.testing import CliRunner

from archc.cli import cli
from archc.compiler.quantize import activation_types
from archc.runtime.data.synth import synthesize

from helpers import SPECS

SPEC = str(SPECS / "nafnet_tiny.arch")


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "set"
    synthesize(out, images=4, seed=1, crops_per_image=2, test_crops_per_image=1, crop=64)
    return out


def _compile(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["compile", SPEC, *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(("precision", "activations"), [("int8", onnx.TensorProto.UINT8),
                                                         ("w8a16", onnx.TensorProto.UINT16)])
def test_quantized_export(tmp_path: Path, synth_set: Path, precision: str, activations: int) -> None:
    code, output = _compile("--out", str(tmp_path), "--emit", "onnx", "--precision", precision,
                            "--calibration", str(synth_set), "--calibration-method", "percentile",
                            "--calibration-images", "2")
    assert code == 0, output
    assert "calibrated (percentile)" in " ".join(output.split())  # the console wraps at any space
    assert activation_types(onnx.load(str(tmp_path / "nafnet_tiny.onnx"))) == {activations}


@pytest.mark.parametrize(("args", "message"), [
    (("--precision", "int8"), "error[E0614]: `--precision int8` needs calibration images"),
    (("--precision", "w8a8", "--calibration", "{data}", "--calibration-method", "entrpy"),
     "error[E0613]: unknown calibration method `entrpy`\nhelp: did you mean `entropy`?"),
    (("--precision", "fp16", "--calibration", "{data}"), "error[E0617]: `--calibration` sets activation ranges"),
    (("--precision", "w8a16", "--calibration", "{missing}"), "error[E0501]: dataset folder"),
])
def test_bad_options_fail_before_writing(tmp_path: Path, synth_set: Path, args: tuple[str, ...],
                                         message: str) -> None:
    filled = [a.format(data=synth_set, missing=tmp_path / "nope") for a in args]
    code, output = _compile("--out", str(tmp_path / "out"), *filled)
    assert code == 1 and message in output and "Traceback" not in output
    assert not (tmp_path / "out").exists()
