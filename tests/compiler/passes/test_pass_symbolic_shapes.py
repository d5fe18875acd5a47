"""symbolic_shapes changes no number; it lets ONNX Runtime keep its blocked layout (fewer Reorders)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from torch import nn

from archc.compiler.onnx_export import to_onnx_model
from archc.compiler.passes.symbolic_shapes import symbolic_shapes

from helpers import fixture


def _size_names(proto: onnx.ModelProto) -> int:
    """Distinct symbolic sizes among the intermediate tensors (plain inference names each one anew)."""
    return len({d.dim_param for vi in proto.graph.value_info for d in vi.type.tensor_type.shape.dim if d.dim_param})


def _ort_ops(proto: onnx.ModelProto, tmp: Path) -> tuple[Counter[str], np.ndarray]:
    opts = ort.SessionOptions()
    opts.optimized_model_filepath = str(tmp / "optimized.onnx")
    sess = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    y = sess.run(None, {"image": fixture("tiny_input.pt").numpy()})[0]  # type: ignore[attr-defined]
    return Counter(n.op_type for n in onnx.load(str(tmp / "optimized.onnx")).graph.node), y


def test_same_graph_fewer_reorders(tiny_strong: nn.Module, tmp_path: Path) -> None:
    plain, _ = to_onnx_model(tiny_strong, passes=("split_simple_gate",))
    shaped = symbolic_shapes(onnx.load_from_string(plain.SerializeToString()))
    assert [n.op_type for n in shaped.graph.node] == [n.op_type for n in plain.graph.node]
    assert 4 * _size_names(shaped) < _size_names(plain)  # equal sizes now carry equal names
    assert shaped.graph.output == plain.graph.output  # the declared output (cropped) shape is kept
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before, y0 = _ort_ops(plain, tmp_path / "a")
    after, y1 = _ort_ops(shaped, tmp_path / "b")
    assert np.abs(y0 - y1).max() <= 1e-5
    reorders = ("ReorderInput", "ReorderOutput")
    assert sum(after[k] for k in reorders) < sum(before[k] for k in reorders)
    assert after["Add"] < before["Add"]  # residual Adds fused into the convs before them
