"""The mixed-precision export: each slot in the precision a search chose for it, in one QDQ graph.

Checked against the graph itself: every convolution of a `w8a8` slot reads int8 weights through a
DequantizeLinear and every other convolution keeps float32 weights; every QuantizeLinear sits on a
tensor that a `w8a8` slot's node writes or reads; the graph runs in ONNX Runtime and stays close
to the float network."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import archc
from archc.compiler.quantize import Calibration
from archc.runtime.network.qdq_export import mixed_proto, prefixes_of

from helpers import SPECS, fixture

SPEC = SPECS / "nafnet_tiny_precision.arch"
CHOSEN = {"enc1": "w8a8", "enc2": "fp16", "dec2": "fp16", "dec1": "w8a8"}


def _net() -> torch.nn.Module:
    model = archc.build(SPEC).eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"))  # type: ignore[arg-type]
    return model


def _calibration() -> Calibration:
    return Calibration(tuple(np.random.default_rng(0).random((3, 1, 3, 64, 64), dtype=np.float32)))


@pytest.fixture(scope="module")
def mixed() -> onnx.ModelProto:
    spec = archc.parse(SPEC)
    assert spec.search is not None
    return mixed_proto(_net(), spec.search.slots, CHOSEN, _calibration())


def _slot_of(name: str, prefixes: dict[str, tuple[str, ...]]) -> str | None:
    return next((slot for slot, ps in prefixes.items() if name.startswith(ps)), None)


def test_convolutions_are_int8_exactly_in_the_w8a8_slots(mixed: onnx.ModelProto) -> None:
    spec = archc.parse(SPEC)
    prefixes = prefixes_of(_net(), spec.search.slots)  # type: ignore[union-attr]
    producers = {o: n for n in mixed.graph.node for o in n.output}
    inits = {i.name: i for i in mixed.graph.initializer}
    convs = [n for n in mixed.graph.node if n.op_type == "Conv"]
    assert convs
    for conv in convs:
        weight = producers.get(conv.input[1])
        quantized = weight is not None and weight.op_type == "DequantizeLinear"
        if quantized:
            assert weight is not None and inits[weight.input[0]].data_type == onnx.TensorProto.INT8
        else:
            assert inits[conv.input[1]].data_type == onnx.TensorProto.FLOAT
        assert quantized == (CHOSEN.get(_slot_of(conv.name, prefixes) or "") == "w8a8"), conv.name


def test_quantize_nodes_sit_only_on_the_w8a8_slots(mixed: onnx.ModelProto) -> None:
    spec = archc.parse(SPEC)
    prefixes = prefixes_of(_net(), spec.search.slots)  # type: ignore[union-attr]
    w8a8 = {s for s, p in CHOSEN.items() if p == "w8a8"}
    producers = {o: n for n in mixed.graph.node for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in mixed.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    quantize = [n for n in mixed.graph.node if n.op_type == "QuantizeLinear"]
    assert quantize
    for q in quantize:
        writer = producers.get(q.input[0])
        readers = [r for dq in consumers.get(q.output[0], []) for r in consumers.get(dq.output[0], [])]
        slots = {_slot_of(n.name, prefixes) for n in [*([writer] if writer else []), *readers]}
        assert slots & w8a8, (q.name, slots)
    assert {_slot_of(n.name, prefixes) for n in quantize if n.name.startswith("/")} <= w8a8 | {None}


def test_the_mixed_graph_runs_in_onnx_runtime_close_to_the_float_network(mixed: onnx.ModelProto) -> None:
    x = np.random.default_rng(1).random((1, 3, 64, 64), dtype=np.float32)
    got = ort.InferenceSession(mixed.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    ref = _net()(torch.from_numpy(x)).detach().numpy()
    snr = 10 * np.log10(np.abs(ref).max() ** 2 / np.mean((got - ref) ** 2))
    assert got.shape == ref.shape and np.abs(got - ref).max() > 0 and snr > 20, snr


def test_w8a16_and_w8a8_slots_share_one_graph() -> None:
    spec = archc.parse(SPEC)
    chosen = {"enc1": "w8a8", "enc2": "fp16", "dec2": "w8a16", "dec1": "w8a8"}
    proto = mixed_proto(_net(), spec.search.slots, chosen, _calibration())  # type: ignore[union-attr]
    inits = {i.name: i for i in proto.graph.initializer}
    zero_points = {
        n.name.split("/")[1]: inits[n.input[2]].data_type
        for n in proto.graph.node
        if n.op_type == "QuantizeLinear" and n.name.startswith("/") and n.input[2] in inits
    }
    assert onnx.TensorProto.UINT16 in zero_points.values() and onnx.TensorProto.UINT8 in zero_points.values()
    x = np.random.default_rng(2).random((1, 3, 48, 48), dtype=np.float32)
    out = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    assert out[0].shape == (1, 3, 48, 48)


def test_a_network_without_quantized_slots_stays_float() -> None:
    spec = archc.parse(SPEC)
    proto = mixed_proto(_net(), spec.search.slots, dict.fromkeys(CHOSEN, "fp16"), _calibration())  # type: ignore[union-attr]
    assert not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in proto.graph.node)
