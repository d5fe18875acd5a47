"""Mixed precision lowering: one exported graph with each searched slot in its own precision.

A search over precision (`precision *: w8a8 | w8a16` in a spec's search) chooses, per slot, `fp16`,
`w8a8` or `w8a16`. This pass writes that choice into the float32 graph of the network:

- the nodes of a `w8a8` / `w8a16` slot are quantized statically (`compiler/quantize.py`: int8
  per-channel symmetric weights, asymmetric uint8 / uint16 activation ranges calibrated on images);
  the exporter names every node after the module it came from, `/<stage>/<stage>.<i>/...`
  (`ArchNet.stage_prefix`), so a slot's nodes are the ones under its blocks' prefixes;
- `fp16` slots and everything the search does not choose (stem, head, downs, ups, excluded stages)
  stay float32 here: ONNX Runtime's CPU provider has no FP16 convolutions (a phone's converter runs
  those float parts in FP16, as the search's latency tables assume);
- with both `w8a16` and `w8a8` slots the graph is quantized twice, the `w8a16` nodes first: each pass
  only touches the nodes it names, so the second leaves the first's Q/DQ pairs as they are.

The W8A16 graph needs opset 21 (`compiler/quantize.py`); the quantizer raises it when asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archc.dsl.precision import ACTIVATION_BITS, QUANTIZED, canonical
from archc.dsl.spec import Slot

from .quantize import Calibration, quantize

ORDER = tuple(sorted(QUANTIZED, key=ACTIVATION_BITS.__getitem__, reverse=True))  # the passes, wider activations first


def slot_prefixes(stage_prefix: str, slot: Slot, stage_blocks: int) -> tuple[str, ...]:
    """Node-name prefixes of `slot`'s blocks in an export of a network whose stage `slot.stage`
    lives at module `stage_prefix` (e.g. `encoders.0`) and holds `stage_blocks` blocks."""
    if slot.start == 0 and slot.stop >= stage_blocks:
        return (f"/{stage_prefix}/",)
    return tuple(f"/{stage_prefix}/{stage_prefix}.{i}/" for i in range(slot.start, slot.stop))


def quantized_prefixes(precisions: Mapping[str, str], prefixes: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Quantized precision -> node-name prefixes of the slots chosen in it (slot name -> precision
    in `precisions`, slot name -> its prefixes in `prefixes`)."""
    out: dict[str, list[str]] = {}
    for slot, precision in precisions.items():
        p = canonical(precision)
        if p in QUANTIZED:
            out.setdefault(p, []).extend(prefixes[slot])
    return out


def lower_mixed(proto: Any, by_precision: Mapping[str, Sequence[str]], calibration: Calibration | None) -> Any:
    """`proto` (float32 onnx ModelProto) with the nodes under each quantized precision's prefixes
    in that precision (`by_precision`: `w8a8` / `w8a16` -> prefixes); unchanged when none is."""
    for precision in ORDER:
        prefixes = list(by_precision.get(precision, ()))
        if prefixes and _has_nodes(proto, prefixes):
            proto = quantize(proto, precision, calibration, prefixes)
    return proto


def _has_nodes(proto: Any, prefixes: Sequence[str]) -> bool:
    """Whether any node lives under `prefixes` (an `identity` slot has none)."""
    return any(n.name.startswith(tuple(prefixes)) for n in proto.graph.node)


def quantized_nodes(proto: Any) -> set[str]:
    """Names of the nodes that run in a quantized precision: every activation they read is
    dequantized and what they write is quantized again (a float node beside a quantized slot reads
    its dequantized output, or writes its quantized input, but not both)."""
    dequantized = {o for n in proto.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    requantized = {n.input[0] for n in proto.graph.node if n.op_type == "QuantizeLinear"}
    constants = {i.name for i in proto.graph.initializer}
    return {
        n.name
        for n in proto.graph.node
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear")
        and _all_dequantized(n, dequantized, constants)
        and requantized & set(n.output)
    }


def _all_dequantized(node: Any, dequantized: set[str], constants: set[str]) -> bool:
    activations = [i for i in node.input if i and i not in constants]
    return bool(activations) and all(i in dequantized for i in activations)
