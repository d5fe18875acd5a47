"""`archc compile -O / --passes`: the exported graph follows the chosen passes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import onnx
from click.testing import CliRunner

from archc.cli import cli

from helpers import SPECS


def _cuts(out: Path) -> int:
    """Slice / Split nodes of the exported graph (the gates' channel split; 2 crop the output)."""
    ops = Counter(n.op_type for n in onnx.load(str(out / "nafnet_tiny.onnx")).graph.node)
    return ops["Slice"] + ops["Split"]


def test_default_optimizes_and_O0_is_plain(tmp_path: Path) -> None:
    spec = str(SPECS / "nafnet_tiny.arch")
    runner = CliRunner()
    assert runner.invoke(cli, ["compile", spec, "--out", str(tmp_path / "o2"), "--emit", "onnx"]).exit_code == 0
    assert runner.invoke(cli, ["compile", spec, "--out", str(tmp_path / "o0"), "--emit", "onnx", "-O0"]).exit_code == 0
    assert _cuts(tmp_path / "o0") > 20 and _cuts(tmp_path / "o2") == 2


def test_passes_list_and_pick(tmp_path: Path) -> None:
    spec = str(SPECS / "nafnet_tiny.arch")
    listed = CliRunner().invoke(cli, ["compile", spec, "--passes", "list"])
    assert listed.exit_code == 0 and "split_simple_gate" in listed.output and "symbolic_shapes" in listed.output
    picked = CliRunner().invoke(cli, ["compile", spec, "--out", str(tmp_path), "--emit", "onnx",
                                      "--passes", "fold_residual_scale"])
    assert picked.exit_code == 0 and _cuts(tmp_path) > 20
    bad = CliRunner().invoke(cli, ["compile", spec, "--passes", "split_gate"])
    assert bad.exit_code == 1 and "unknown pass" in bad.output


def test_precision_fp16_writes_a_half_precision_graph(tmp_path: Path) -> None:
    spec = str(SPECS / "nafnet_tiny.arch")
    result = CliRunner().invoke(cli, ["compile", spec, "--out", str(tmp_path), "--emit", "onnx", "--precision", "fp16"])
    assert result.exit_code == 0 and "fp16" in result.output
    proto = onnx.load(str(tmp_path / "nafnet_tiny.onnx"))
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in proto.graph.initializer)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # the interface stays FP32
