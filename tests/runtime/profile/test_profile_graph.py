from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

import archc
from archc.compiler.blocks import get as get_block
from archc.compiler.counts import count
from archc.compiler.ir import to_ir
from archc.runtime.profile.graph import numel, pad, profile_graph, summarize
from archc.runtime.profile.table import network_workload
from archc.runtime.profile.workload import Workload, freeze_shape

from profile_helpers import TINY


def _block(text: str, channels: int = 16, hw: tuple[int, int] = (16, 16)) -> list:  # type: ignore[type-arg]
    block = archc.parse_block(text)
    module = get_block(block.kind).build(block.params, channels)
    return profile_graph(Workload(f"{text}@{channels}x{hw[0]}x{hw[1]}", module, channels, hw).onnx_model())


def test_naf_block_tags_layernorm_channel_attention_and_split() -> None:
    tags = summarize(_block("naf"))["penalised"]
    assert tags["split"] == 4  # two SimpleGates, two Slices each
    assert tags["global_pool"] == 2  # the pooling and the broadcast multiply of SCA
    assert tags["layernorm"] >= 2


def test_blocks_without_the_patterns_carry_no_penalty() -> None:
    assert summarize(_block("dsconv"))["penalised"] == {}
    assert "layernorm" not in summarize(_block("naf_bn"))["penalised"]
    assert "global_pool" not in summarize(_block("naf(sca=off)"))["penalised"]


def test_conv_kinds() -> None:
    classes = {op.cls for op in _block("dsconv") if op.op_type == "Conv"}
    assert classes == {"depthwise", "pointwise"}


def test_network_macs_match_the_compilers_count() -> None:
    spec = archc.parse(TINY)
    ops = profile_graph(network_workload(spec, {}, (32, 32)).onnx_model())
    assert summarize(ops)["macs"] == count(to_ir(spec), (32, 32)).macs
    assert summarize(ops)["penalised"]["depth_to_space"] == 4


def _decomposed_layernorm() -> onnx.ModelProto:
    """The ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div chain as an exporter writes it."""
    n = helper.make_node
    nodes = [
        n("ReduceMean", ["x"], ["mu"], axes=[1], keepdims=1),
        n("Sub", ["x", "mu"], ["d"]),
        n("Pow", ["d", "two"], ["d2"]),
        n("ReduceMean", ["d2"], ["var"], axes=[1], keepdims=1),
        n("Add", ["var", "eps"], ["ve"]),
        n("Sqrt", ["ve"], ["sd"]),
        n("Div", ["d", "sd"], ["y"]),
        n("Mul", ["y", "w"], ["yw"]),
        n("Add", ["yw", "x"], ["out"]),
    ]
    inits = [
        helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]),
        helper.make_tensor("eps", TensorProto.FLOAT, [], [1e-6]),
        helper.make_tensor("w", TensorProto.FLOAT, [1, 8, 1, 1], [1.0] * 8),
    ]
    graph = helper.make_graph(
        nodes,
        "ln",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 4, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 8, 4, 4])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_the_layernorm_decomposition_is_tagged_up_to_the_division() -> None:
    ops = profile_graph(onnx.shape_inference.infer_shapes(_decomposed_layernorm()))
    tagged = [op.op_type for op in ops if op.penalty == "layernorm"]
    assert tagged == ["ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div"]
    assert [op.penalty for op in ops[-2:]] == [None, None]  # the affine and the residual are ordinary


def test_freeze_shape_folds_shape_arithmetic() -> None:
    spec = archc.parse(TINY)
    w = network_workload(spec, {}, (48, 48))
    frozen = freeze_shape(w._export(), (1, 3, 48, 48))
    assert not {"Shape", "Gather", "Mod"} & {n.op_type for n in frozen.graph.node}


@pytest.mark.parametrize(("channels", "granule", "padded"), [(3, 32, 32), (32, 32, 32), (33, 32, 64), (3, 1, 3)])
def test_channel_granule(channels: int, granule: int, padded: int) -> None:
    assert pad(channels, granule) == padded
    assert numel((1, channels, 2, 2), granule) == 4 * padded


def test_attention_ops_are_costed_in_token_layout() -> None:
    """MDTA at 2 heads x 24 channels over 16 x 16 pixels: the q kᵀ and attention x v MatMuls count their
    MACs, the layout Reshapes are copies, the spatial L2 normalisation is a spatial statistic, and no
    token-layout tensor is padded to the channel granule (its axis 1 is the head count)."""
    ops = _block("restormer(heads=2)", channels=48)
    matmuls = [op for op in ops if op.op_type == "MatMul"]
    assert sorted(op.macs() for op in matmuls) == [2 * 24 * 256 * 24] * 2
    assert all(op.tokens and op.cls == "pointwise" for op in matmuls)
    reshapes = [op for op in ops if op.op_type == "Reshape"]
    assert reshapes and all(op.cls == "elementwise" for op in reshapes)
    norms = [op for op in ops if op.op_type in ("ReduceL2", "Clip", "Expand")]
    assert norms and all(op.penalty == "global_pool" for op in norms)
    softmax = next(op for op in ops if op.op_type == "Softmax")
    assert softmax.tokens and softmax.elements(32) == 2 * 24 * 24
    assert not any(op.tokens for op in _block("naf"))
