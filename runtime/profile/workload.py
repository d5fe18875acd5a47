"""A workload: one module at one input shape, and its ONNX graph frozen at that shape.

Every backend profiles workloads: the torch backend runs the module; ONNX Runtime, adb, AI Hub
and the cost model take the graph. The graph is exported once (dynamic H/W, as
`compiler.onnx_export` does) and then simplified with the input shape fixed, so shape arithmetic
and zero padding fold away and shape inference gives every tensor a size. Exports are cached in
this process by workload key, because a block table and a validation run ask for the same
blocks and networks again and again.

A workload in a quantized precision (`w8a8`, `w8a16`) is the static QDQ graph of the module,
calibrated on random images: the ranges change its numbers, not its speed, and latency is all a
profile reads from it.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any

import numpy as np
from attrs import field, frozen
from torch import nn

from archc.compiler.onnx_export import INPUT, to_onnx_model
from archc.compiler.quantize import Calibration
from archc.dsl.precision import TRACED, is_quantized
from archc.errors import ProfileError

_CACHE: OrderedDict[str, bytes] = OrderedDict()
_CACHE_SIZE = 64
_TRACE = 64  # the traced sample is small; the graph is dynamic and frozen at the real size later


@frozen
class Workload:
    """`module` applied to a 1 x channels x H x W input. `key` names it in caches and tables
    (e.g. `naf(sca=off)@32x256x256`, `net:enc1=dsconv@3x256x256`)."""

    key: str
    module: nn.Module = field(eq=False, repr=False)
    channels: int
    size: tuple[int, int]
    cache_key: str | None = None  # when `key` alone does not identify the module (whole networks)
    precision: str = TRACED  # of the exported graph (`compiler/precision.py`)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (1, self.channels, *self.size)

    def onnx_bytes(self) -> bytes:
        """The ONNX graph with its input fixed to `shape` (cached by key)."""
        key = f"{self.cache_key or self.key}#{self.precision}"
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
        data = freeze_shape(self._export(), self.shape).SerializeToString()
        _CACHE[key] = data
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return data

    def onnx_model(self) -> Any:
        import onnx

        return onnx.load_from_string(self.onnx_bytes())

    def _export(self) -> Any:
        sample = (min(self.size[0], _TRACE), min(self.size[1], _TRACE))
        calibration = None
        if is_quantized(self.precision):
            images = np.random.default_rng(0).random((2, 1, self.channels, *sample), dtype=np.float32)
            calibration = Calibration(tuple(images), "minmax", "random images (latency only)")
        proto, _ = to_onnx_model(self.module, self.channels, sample, precision=self.precision,
                                 calibration=calibration)
        return proto


def freeze_shape(proto: Any, shape: tuple[int, ...]) -> Any:
    """`proto` with its input fixed to `shape`, simplified, and with every tensor's shape inferred."""
    import onnx

    try:
        import onnxsim

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            simplified, ok = onnxsim.simplify(proto, overwrite_input_shapes={INPUT: list(shape)})
        if ok:
            proto = simplified
    except Exception:  # onnxsim is an optimisation here: fall back to plain shape inference
        _set_input_shape(proto, shape)
    try:
        return onnx.shape_inference.infer_shapes(proto, strict_mode=False)
    except Exception as exc:
        raise ProfileError(f"ONNX shape inference failed at input {list(shape)}: {exc}", code="E0806") from exc


def _set_input_shape(proto: Any, shape: tuple[int, ...]) -> None:
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    for dim, value in zip(dims, shape, strict=True):
        dim.Clear()
        dim.dim_value = int(value)


def clear_cache() -> None:
    _CACHE.clear()
