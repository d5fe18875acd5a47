"""Precision lowering of the exported graph: `fp32` (as traced), `fp16`, or the static QDQ
integer forms `w8a8` (alias `int8`) and `w8a16` (`compiler/quantize.py`, with calibration images).

FP16 is what a phone NPU runs a float network in (Hexagon HTP has no FP32 math). Converting every
op is not safe for NAFNet: its residual stream reaches |x| ~ 175 in the bottleneck, and a channel
LayerNorm reduces squares over up to 512 channels (175^2 x 512 ~ 1.6e7, far past FP16's 65504), so
the statistics overflow; and residual additions accumulate rounding error block after block.
So the FP16 graph computes in FP16 only where the arithmetic is (convolutions, the gate and
attention products, pixel shuffles), and keeps in FP32:

- `LayerNormalization` (and the transposes around it): statistics over channels;
- `Add`: the residual stream and the skip connections (the stream stays FP32 end to end; each
  branch's conv output is cast up before it is added);
- `GlobalAveragePool` / `ReduceMean`: spatial means over up to 1280 x 720 pixels;
- `Pad` and `Slice`: the input padding and the output crop, so the graph's input and output
  stay FP32 (`keep_io_types`).

Casts are inserted at every FP16 / FP32 boundary (onnxruntime.transformers.float16). Weights of
FP16 ops are stored in FP16 (values beyond FP16's range are clamped, as the converter does). Some
versions of the converter (ONNX Runtime 1.30) insert the same Cast once per consumer of a tensor,
all writing one name; the copies are dropped, so every version gives a valid graph.
"""

from __future__ import annotations

from typing import Any

from archc.diagnostics import quoted_list
from archc.dsl.precision import GRAPH, NAMES, QUANTIZED, TRACED, canonical
from archc.errors import ExportError

from .quantize import Calibration, quantize

FP32_OPS = ("LayerNormalization", "Transpose", "Add", "Sum", "GlobalAveragePool", "ReduceMean", "Pad", "Slice")


def lower_precision(proto: Any, precision: str, calibration: Calibration | None = None) -> Any:
    """`proto` (an onnx ModelProto) in `precision`; inputs and outputs stay FP32. The quantized
    precisions need `calibration` (ExportError E0614 without it)."""
    precision = canonical(precision)
    if precision not in GRAPH:
        raise ExportError(f"unknown precision `{precision}`", code="E0611",
                          help=f"choose {quoted_list(NAMES)}")
    if precision == TRACED:
        return proto
    if precision in QUANTIZED:
        return quantize(proto, precision, calibration)
    from onnxruntime.transformers import float16

    blocked = [*float16.DEFAULT_OP_BLOCK_LIST, *FP32_OPS]
    return _sorted(_without_repeats(float16.convert_float_to_float16(proto, keep_io_types=True, op_block_list=blocked)))


def _without_repeats(proto: Any) -> Any:
    """`proto` without the nodes that repeat an earlier node exactly (op, name, inputs, outputs and
    attributes): a graph writes each tensor once."""
    seen: set[bytes] = set()
    kept = []
    for node in proto.graph.node:
        key = node.SerializeToString(deterministic=True)
        if key not in seen:
            seen.add(key)
            kept.append(node)
    del proto.graph.node[:]
    proto.graph.node.extend(kept)
    return proto


def _sorted(proto: Any) -> Any:
    """`proto` with its nodes in topological order (the converter appends the input casts last)."""
    graph = proto.graph
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, order = list(graph.node), []
    while pending:
        rest = [n for n in pending if not all(i in ready for i in n.input)]
        done = [n for n in pending if all(i in ready for i in n.input)]
        if not done:
            raise ExportError("the FP16 graph has a cycle or a dangling input", code="E0612")
        order += done
        ready.update(o for n in done for o in n.output)
        pending = rest
    del graph.node[:]
    graph.node.extend(order)
    return proto


def float32_nodes(proto: Any) -> set[str]:
    """Names of the nodes whose float inputs are FP32 in `proto` (after shape inference)."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(proto)
    types = {vi.name: vi.type.tensor_type.elem_type for vi in (*inferred.graph.value_info, *inferred.graph.input)}
    types.update({i.name: i.data_type for i in inferred.graph.initializer})
    f32 = onnx.TensorProto.FLOAT
    return {n.name for n in inferred.graph.node if any(types.get(i) == f32 for i in n.input if i)}
