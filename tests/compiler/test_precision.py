"""FP16 export: close to FP32 (and to the official output), with the statistics and the residual
stream in FP32. ONNX Runtime's CPU kernels accumulate FP16 reductions in FP32, so the overflow a
phone NPU would hit is checked structurally here (which nodes compute in FP32), not numerically."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import archc
from archc.compiler.onnx_export import to_onnx_model
from archc.compiler.passes import passes_for
from archc.compiler.precision import float32_nodes, lower_precision

from helpers import SPECS, fixture


@pytest.fixture
def tiny_strong() -> torch.nn.Module:
    model = archc.build(SPECS / "nafnet_tiny.arch").eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"), strict=True)  # type: ignore[arg-type]
    return model


def _run(proto: onnx.ModelProto, x: torch.Tensor) -> np.ndarray:
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"image": x.numpy()})[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("level", [0, 2])
def test_fp16_close_to_the_official_output(tiny_strong: torch.nn.Module, level: int) -> None:
    proto, _ = to_onnx_model(tiny_strong, passes=passes_for(level), precision="fp16")
    expected = fixture("tiny_strong_output.pt").numpy()  # type: ignore[attr-defined]
    y = _run(proto, fixture("tiny_input.pt"))  # type: ignore[arg-type]
    assert y.dtype == np.float32  # inputs and outputs stay FP32
    assert np.abs(y - expected).max() <= 1e-2 * np.abs(expected).max()


def test_statistics_and_residual_stream_stay_fp32(tiny_strong: torch.nn.Module) -> None:
    proto, _ = to_onnx_model(tiny_strong, passes=passes_for(2), precision="fp16")
    f32 = float32_nodes(proto)
    by_type: dict[str, list[str]] = {}
    for n in proto.graph.node:
        by_type.setdefault(n.op_type, []).append(n.name)
    for op in ("LayerNormalization", "Add", "GlobalAveragePool"):
        assert by_type[op] and all(name in f32 for name in by_type[op]), op
    assert any(name not in f32 for name in by_type["Conv"])  # the arithmetic does run in FP16
    init_types = {i.data_type for i in proto.graph.initializer if i.data_type in (1, 10)}
    assert onnx.TensorProto.FLOAT16 in init_types


def test_large_residual_stream_is_still_accurate(tiny_strong: torch.nn.Module) -> None:
    with torch.no_grad():
        tiny_strong.intro.bias.add_(150.0)  # type: ignore[union-attr, operator]  # |x| ~ 175 as in NAFNet's bottleneck
        x = fixture("tiny_input.pt")
        ref = tiny_strong(x).numpy()  # type: ignore[operator]
    proto, _ = to_onnx_model(tiny_strong, passes=passes_for(2), precision="fp16")
    y = _run(proto, x)  # type: ignore[arg-type]
    assert np.isfinite(y).all()
    assert np.abs(y - ref).max() <= 1e-2 * np.abs(ref).max()


def test_unknown_precision_is_an_export_error(tiny_strong: torch.nn.Module) -> None:
    proto, _ = to_onnx_model(tiny_strong, passes=())
    with pytest.raises(archc.ArchError, match="unknown precision"):
        lower_precision(proto, "fp8")


def test_a_cast_the_converter_repeats_is_kept_once() -> None:
    # ONNX Runtime 1.30's converter writes one Cast per consumer of a tensor, all under one name
    from onnx import TensorProto, helper

    from archc.compiler.precision import _without_repeats

    cast = helper.make_node("Cast", ["image"], ["half"], name="image_cast", to=TensorProto.FLOAT16)
    nodes = [
        cast,
        helper.make_node("Relu", ["half"], ["a"], name="relu"),
        helper.make_node("Cast", ["image"], ["half"], name="image_cast", to=TensorProto.FLOAT16),
        helper.make_node("Neg", ["half"], ["b"], name="neg"),
        helper.make_node("Cast", ["image"], ["half2"], name="image_cast2", to=TensorProto.FLOAT16),  # not a repeat
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT16, [1, 2]) for n in ("a", "b", "half2")],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)  # older runtimes too
    with pytest.raises(onnx.checker.ValidationError, match="single static assignment"):
        onnx.checker.check_model(proto)
    kept = _without_repeats(proto)
    onnx.checker.check_model(kept)
    assert [n.name for n in kept.graph.node] == ["image_cast", "relu", "neg", "image_cast2"]
    a, b, _ = ort.InferenceSession(kept.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"image": np.array([[-1.0, 2.0]], dtype=np.float32)}
    )
    assert a.tolist() == [[0.0, 2.0]] and b.tolist() == [[1.0, -2.0]]
