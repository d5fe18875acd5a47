"""Static QDQ quantization of the exported graph: W8A8 (`w8a8`, alias `int8`) and W8A16 (`w8a16`).

This is the form Qualcomm's QNN / AI Hub toolchain takes: a float graph with a
QuantizeLinear -> DequantizeLinear pair on every weight and activation, from which the converter
reads the integer encodings. With scale `s` and zero point `z`,

    q = clamp(round(x / s) + z, qmin, qmax)        x' = (q - z) * s

- weights: int8, symmetric (`z = 0`), one scale per output channel (axis 0 of a Conv weight):
  `s_c = max |W_c| / 127`, so a channel of small weights keeps its resolution;
- activations: one asymmetric range per tensor, uint8 (`w8a8`, 256 levels) or uint16 (`w8a16`,
  65536 levels), `s = (max - min) / (qmax - qmin)` over a range that always holds 0, taken from
  calibration images run through the float graph:
  `minmax` the observed extremes; `percentile` the 0.001 / 99.999 percentiles (outliers clipped);
  `entropy` the threshold whose quantized histogram is closest (KL divergence) to the float one.

ONNX Runtime's quantization tooling does the work. For 16-bit activations it emits uint16
QuantizeLinear / DequantizeLinear, which the ONNX standard allows from opset 21, so the W8A16
graph's opset is raised to 21; ONNX Runtime 1.32's CPU provider runs it (as float arithmetic
between the Q/DQ pairs: it has integer kernels for 8-bit activations only). The W8A8 graph keeps
opset 17, and the CPU provider fuses its QDQ groups into QLinearConv / QLinearMul / QLinearAdd
integer kernels (VNNI instructions where the processor has them).
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import field, frozen

from archc.diagnostics import quoted_list, unknown_name_help
from archc.dsl.precision import ACTIVATION_BITS, canonical
from archc.errors import ExportError

METHODS = ("minmax", "percentile", "entropy")


@frozen
class Calibration:
    """Calibration images (`N x C x H x W` float32 arrays, one batch each) and the range method."""

    images: tuple[np.ndarray, ...] = field(eq=False)
    method: str = "minmax"
    source: str = ""  # where the images came from, for reports

    def __attrs_post_init__(self) -> None:
        check_method(self.method)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ExportError(f"unknown calibration method `{method}`", code="E0613",
                          help=unknown_name_help(method, METHODS, f"choose {quoted_list(METHODS)}"))


def missing_calibration(precision: str) -> ExportError:
    return ExportError(f"`--precision {precision}` needs calibration images to set its activation ranges",
                       code="E0614",
                       help="pass `--calibration DATA` (a dataset folder, e.g. one `archc data synth` wrote)")


def quantize(proto: Any, precision: str, calibration: Calibration | None, prefixes: Sequence[str] = ()) -> Any:
    """`proto` (a float32 onnx ModelProto) as a static QDQ graph in `precision` (`w8a8`, `w8a16`);
    with `prefixes`, only the nodes whose names start with one of them (e.g. `/encoders.0/`, the
    nodes of a stage in an unoptimized export) are quantized, the rest stays float32."""
    precision = canonical(precision)
    if calibration is None:
        raise missing_calibration(precision)
    if not calibration.images:
        raise ExportError("no calibration images", code="E0615",
                          help="the calibration dataset must hold at least one image pair")
    import onnx

    with tempfile.TemporaryDirectory(prefix="archc-qdq-") as tmp, _quiet():
        out = Path(tmp) / "qdq.onnx"
        nodes = [n.name for n in proto.graph.node if n.name.startswith(tuple(prefixes))] if prefixes else None
        private = onnx.ModelProto()
        private.CopyFrom(proto)  # the quantizer rewrites its input's initializers in place
        _quantize_static(private, out, precision, calibration, nodes)
        return onnx.load(str(out))


def _quantize_static(proto: Any, out: Path, precision: str, calibration: Calibration,
                     nodes: list[str] | None) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    activations = QuantType.QUInt16 if ACTIVATION_BITS[precision] == 16 else QuantType.QUInt8
    try:
        quantize_static(proto, str(out), _Reader(proto.graph.input[0].name, calibration.images),
                        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=activations,
                        weight_type=QuantType.QInt8, calibrate_method=methods[calibration.method],
                        nodes_to_quantize=nodes,
                        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
    except Exception as exc:  # the quantizer raises many types; all mean "cannot quantize"
        raise ExportError(f"{precision} quantization failed: {type(exc).__name__}: {exc}", code="E0616") from exc


class _Reader:
    """ONNX Runtime's calibration data reader protocol over a sequence of batches."""

    def __init__(self, input_name: str, images: Sequence[np.ndarray]) -> None:
        self.batches: Iterator[np.ndarray] = iter(images)
        self.input_name = input_name

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self.batches, None)
        return None if batch is None else {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The quantizer prints progress and logs a warning per LayerNorm bias, and its calibration
    sessions log ONNX Runtime's graph warnings (unused initializers) to stderr; a compile stays
    quiet. (ONNX Runtime's default log level has no getter: archc keeps it at errors from here on,
    as every session it opens itself does.)"""
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def weight_scales(proto: Any) -> dict[str, np.ndarray]:
    """Conv weight name -> the scales of its DequantizeLinear (one per output channel when per-channel)."""
    from onnx import numpy_helper

    inits = {i.name: i for i in proto.graph.initializer}
    producers = {o: n for n in proto.graph.node for o in n.output}
    out = {}
    for node in (n for n in proto.graph.node if n.op_type == "Conv"):
        dq = producers.get(node.input[1])
        if dq is not None and dq.op_type == "DequantizeLinear" and dq.input[1] in inits:
            out[dq.input[0]] = numpy_helper.to_array(inits[dq.input[1]])
    return out


def activation_types(proto: Any) -> set[int]:
    """ONNX element types of the zero points of every activation QuantizeLinear in `proto`."""
    inits = {i.name: i for i in proto.graph.initializer}
    return {inits[n.input[2]].data_type for n in proto.graph.node
            if n.op_type == "QuantizeLinear" and len(n.input) > 2 and n.input[2] in inits}
