"""`archc eval --precision`: the exported ONNX of each precision scored in ONNX Runtime, one row per
precision; the run report shows them from RUN/eval.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from safetensors.torch import save_file

import archc
from archc.cli import cli
from archc.runtime.data.synth import synthesize
from archc.runtime.report.run_report import sections

from helpers import SPECS, fixture

SPEC = str(SPECS / "nafnet_tiny.arch")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("evalp")
    synthesize(root / "set", images=7, seed=2, crops_per_image=2, test_crops_per_image=1, crop=64)
    model = archc.build(SPEC)
    model.load_state_dict(fixture("tiny_state.pt"))  # type: ignore[arg-type]
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(root / "w.safetensors"))
    return root / "set", root / "w.safetensors"


def test_psnr_per_precision_and_the_report(setup: tuple[Path, Path], tmp_path: Path) -> None:
    data, weights = setup
    args = ["eval", SPEC, "--weights", str(weights), "--data", str(data), "--limit", "2", "--json",
            "--calibration", str(data), "--save", str(tmp_path / "eval.json")]
    for p in ("fp32", "fp16", "int8", "w8a16"):
        args += ["--precision", p]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "eval.json").read_text())
    assert [r["precision"] for r in rows] == ["fp32", "fp16", "w8a8", "w8a16"]
    assert all(r["runtime"] == "onnxruntime-cpu" and r["count"] == 2 for r in rows)
    torch_row = json.loads(CliRunner().invoke(cli, args[:9]).output)[0]
    by = {r["precision"]: r["psnr"] for r in rows}
    assert abs(by["fp32"] - torch_row["psnr"]) < 1e-3  # the same network, run by ONNX Runtime
    assert abs(by["fp16"] - by["fp32"]) < 0.05 and abs(by["w8a16"] - by["fp32"]) < 0.1
    assert 0 < abs(by["w8a8"] - by["fp32"]) < 1.0
    section = next(s for s in sections(tmp_path) if s.title == "PSNR per precision")
    assert [row[0] for row in section.tables[0][1]] == ["fp32", "fp16", "w8a8", "w8a16"]


def test_quantized_precision_needs_calibration(setup: tuple[Path, Path]) -> None:
    data, weights = setup
    result = CliRunner().invoke(cli, ["eval", SPEC, "--weights", str(weights), "--data", str(data),
                                      "--precision", "w8a8"])
    assert result.exit_code == 1 and "error[E0614]" in result.output and "Traceback" not in result.output
