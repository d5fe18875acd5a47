"""The exported network in the precisions a search chose for its slots: one QDQ ONNX file.

The float32 export of the network (`compiler/onnx_export.py`, the same passes as the FP32 file)
is lowered by `compiler/mixed_precision.py`: the nodes of each slot chosen `w8a8` or `w8a16` are
quantized statically, calibrated as `archc compile --precision` calibrates (the first 16 centre
crops of 128 px of the training split, min-max ranges); `fp16` slots and the unsearched parts
stay float32 (ONNX Runtime's CPU provider has no FP16 convolutions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from archc.compiler.files import atomic_path
from archc.compiler.mixed_precision import lower_mixed, quantized_nodes, quantized_prefixes, slot_prefixes
from archc.compiler.onnx_export import LEGACY_PASSES, to_onnx_model
from archc.compiler.quantize import Calibration
from archc.dsl.precision import is_quantized
from archc.dsl.spec import Slot

CALIBRATION_IMAGES, CALIBRATION_CROP = 16, 128  # `archc compile --precision`'s defaults


def needs_qdq(precisions: Mapping[str, str] | None) -> bool:
    """Whether any slot of `precisions` (slot -> precision) is quantized."""
    return bool(precisions) and any(is_quantized(p) for p in (precisions or {}).values())


def calibration_of(data: str | Path) -> Calibration:
    from archc.runtime.data.calibration import calibration

    return calibration(data, "minmax", CALIBRATION_IMAGES, CALIBRATION_CROP, split="train")


def prefixes_of(model: nn.Module, slots: Sequence[Slot]) -> dict[str, tuple[str, ...]]:
    """Slot name -> node-name prefixes of its blocks in `model`'s export."""
    net: Any = model  # an ArchNet (compiler/lower.py)
    return {s.name: slot_prefixes(net.stage_prefix(s.stage), s, len(net.stage_module(s.stage))) for s in slots}


def mixed_proto(
    model: nn.Module,
    slots: Sequence[Slot],
    precisions: Mapping[str, str],
    calibration: Calibration,
    in_channels: int = 3,
) -> Any:
    """The ONNX ModelProto of `model` with each slot in its precision (slot name -> precision)."""
    proto, _ = to_onnx_model(model.cpu().eval(), in_channels, passes=LEGACY_PASSES)
    by_precision = quantized_prefixes(precisions, prefixes_of(model, slots))
    return lower_mixed(proto, by_precision, calibration)


def write_mixed(
    model: nn.Module,
    slots: Sequence[Slot],
    precisions: Mapping[str, str],
    calibration: Calibration,
    path: str | Path,
    in_channels: int = 3,
) -> dict[str, Any]:
    """Write the mixed-precision graph at `path` (atomically); returns what export.json records."""
    import onnx

    proto = mixed_proto(model, slots, precisions, calibration, in_channels)
    onnx.checker.check_model(proto)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    return {
        "path": str(path),
        "precisions": dict(precisions),
        "calibration": calibration.source,
        "calibration_method": calibration.method,
        "opset": max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
        "quantized_nodes": len(quantized_nodes(proto)),
        "float_slots": "fp16 slots and the unsearched parts run in float32 (no FP16 kernels in ONNX "
        "Runtime's CPU provider)",
    }
