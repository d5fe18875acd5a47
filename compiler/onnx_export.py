"""Module -> simplified ONNX (opset 17, dynamic batch/height/width), checked and written atomically."""

from __future__ import annotations

import io
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from attrs import frozen
from torch import nn

from archc.dsl.precision import TRACED, canonical
from archc.errors import ExportError

from .files import atomic_path
from .quantize import Calibration

OPSET = 17
INPUT, OUTPUT = "image", "restored"
LEGACY_PASSES: tuple[str, ...] = ("fold_batchnorm",)  # what every export did before the pass list


@frozen
class ExportReport:
    path: str
    opset: int
    nodes: int
    nodes_before_simplify: int
    op_counts: dict[str, int]
    simplified: bool
    export_seconds: float
    simplify_seconds: float
    passes: tuple[str, ...] = ("fold_batchnorm",)
    precision: str = TRACED

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _trace(model: nn.Module, channels: int, sample: tuple[int, int]) -> bytes:
    x = torch.rand(1, channels, *sample)
    buf = io.BytesIO()
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (x,), buf,  # type: ignore[arg-type]
            dynamo=False, opset_version=OPSET, input_names=[INPUT], output_names=[OUTPUT],
            dynamic_axes={INPUT: axes, OUTPUT: axes},
        )
    return buf.getvalue()


def to_onnx_model(model: nn.Module, in_channels: int = 3, sample: tuple[int, int] = (64, 64),
                  simplify: bool = True, passes: Sequence[str] = LEGACY_PASSES,
                  precision: str = TRACED, calibration: Calibration | None = None) -> tuple[Any, dict[str, float]]:
    """Export an eval-mode copy of `model`; returns (ModelProto, timings).

    `passes` are the inference passes (`compiler/passes/`) to apply: module passes before the
    trace, graph passes after simplification. The default keeps what every export always did
    (BatchNorm folded); `archc compile` passes its -O level's list. `precision` (`fp32`, `fp16`,
    `w8a8` / `int8`, `w8a16`) is applied last (`compiler/precision.py`); the quantized ones
    calibrate their activation ranges on `calibration`.
    """
    import onnx

    from .passes import optimize, optimize_graph
    from .precision import lower_precision

    prepared = optimize(model, passes).cpu()  # a copy: a network trained on a GPU exports as it is
    t0 = time.perf_counter()
    try:
        proto = onnx.load_from_string(_trace(prepared, in_channels, sample))
    except Exception as exc:  # the exporter raises many types; all mean "cannot export"
        raise ExportError(f"ONNX export failed: {type(exc).__name__}: {exc}", code="E0601") from exc
    t1 = time.perf_counter()
    before = len(proto.graph.node)
    ok = False
    if simplify:
        import onnxsim

        simplified, ok = onnxsim.simplify(proto)
        if ok:
            proto = simplified
    proto = lower_precision(optimize_graph(proto, passes), precision, calibration)
    t2 = time.perf_counter()
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:
        raise ExportError(f"the exported ONNX graph fails onnx.checker: {exc}", code="E0602") from exc
    return proto, {"export": t1 - t0, "simplify": t2 - t1, "before": before, "simplified": float(ok)}


def export_onnx(model: nn.Module, path: str | Path, in_channels: int = 3, sample: tuple[int, int] = (64, 64),
                simplify: bool = True, passes: Sequence[str] = LEGACY_PASSES, precision: str = TRACED,
                calibration: Calibration | None = None) -> ExportReport:
    """Write `model` as a simplified ONNX file at `path` (atomically), with `passes` applied, in `precision`."""
    import onnx

    proto, t = to_onnx_model(model, in_channels, sample, simplify, passes, precision, calibration)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    ops = Counter(n.op_type for n in proto.graph.node)
    return ExportReport(str(path), OPSET, len(proto.graph.node), int(t["before"]), dict(sorted(ops.items())),
                        bool(t["simplified"]), t["export"], t["simplify"], tuple(passes),
                        canonical(precision))
