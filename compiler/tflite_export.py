"""Module -> LiteRT flatbuffer (`.tflite`) with `litert_torch.convert`, written atomically; run in
LiteRT's interpreter (with its XNNPACK delegate, as on a phone CPU).

The file's input size is fixed (the sample size; `archc compile` uses `--size`, default 256x256):
litert-torch 0.10.0 cannot lower a dynamic height and width through PixelShuffle, whose
`aten.view` with symbolic sizes its JAX bridge refuses ("Shapes must be 1D sequences of concrete
values"), and every up-sampling of these U-Nets is a PixelShuffle. Asking for a dynamic file is
an error that says so.

The converter keeps PyTorch's NCHW input and output (it inserts the layout changes itself), so a
`.tflite` takes the same `1 x C x H x W` float32 array as the `.onnx` and `.pte` files.

INT8 (`w8a8` / `int8`) goes through LiteRT's own flow: PT2E with LiteRT's quantizer (symmetric int8
weights, one scale per output channel; int8 activations whose min / max ranges are observed on the
calibration images, the same crops as the QDQ ONNX export takes), converted with that quantizer's
config so the file holds integer kernels. Quantized files are converted at the sample size.

Needs the `litert-torch` package (`pip install 'archc[litert]'`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .mobile import MAX_SIZE, MobileReport, convert, dynamic_shapes, export_checked, observed, quiet, require
from .quantize import Calibration


def to_tflite(
    model: nn.Module,
    in_channels: int = 3,
    sample: tuple[int, int] = (64, 64),
    dynamic: bool = False,
    precision: str = "fp32",
    calibration: Calibration | None = None,
    max_size: int = MAX_SIZE,
) -> tuple[bytes, dict[str, Any]]:
    """The `.tflite` flatbuffer of an eval-mode copy of `model`; returns (bytes, facts: `input`, `seconds`).

    Raises MissingRuntimeError without litert-torch, UnsupportedOpError naming an op it cannot take.
    """
    return convert("tflite", _convert, model, in_channels, sample, dynamic, precision, calibration, max_size)


def _convert(
    model: nn.Module, x: torch.Tensor, dynamic: bool, precision: str, calibration: Calibration | None, max_size: int
) -> tuple[bytes, dict[str, Any]]:
    import litert_torch

    kwargs: dict[str, Any] = {}
    if dynamic:
        kwargs["dynamic_shapes"] = dynamic_shapes(model, max_size)
    if precision == "w8a8":
        assert calibration is not None
        model, kwargs["quant_config"] = _quantized(model, x, calibration)
    edge = litert_torch.convert(model, (x,), **kwargs)
    with tempfile.TemporaryDirectory(prefix="archc-tflite-") as tmp:
        out = Path(tmp) / "model.tflite"
        edge.export(str(out))
        return out.read_bytes(), {}


def _quantized(model: nn.Module, x: torch.Tensor, calibration: Calibration) -> tuple[nn.Module, Any]:
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

    quantizer = PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    quantized = convert_pt2e(observed(model, x, quantizer, calibration), fold_quantize=False)
    return quantized, QuantConfig(pt2e_quantizer=quantizer)


def export_tflite(
    model: nn.Module,
    path: str | Path,
    in_channels: int = 3,
    sample: tuple[int, int] = (64, 64),
    dynamic: bool = False,
    precision: str = "fp32",
    calibration: Calibration | None = None,
    max_size: int = MAX_SIZE,
) -> MobileReport:
    """Write `model` as a LiteRT flatbuffer at `path` (atomically) and check it in the interpreter."""
    return export_checked(
        "tflite", to_tflite, run_tflite, model, path, in_channels, sample, dynamic, precision, calibration, max_size
    )


class TfliteRunner:
    """One LiteRT interpreter over a `.tflite` file: `run(x)` with `x` a `1 x C x H x W` float32 array
    (the input is resized when the file's height and width are dynamic)."""

    def __init__(self, data: bytes, threads: int = 1) -> None:
        require("tflite")
        from ai_edge_litert.interpreter import Interpreter

        with quiet():
            self.interpreter = Interpreter(model_content=data, num_threads=threads)
        self.input = self.interpreter.get_input_details()[0]
        self.shape: tuple[int, ...] | None = None

    def prepare(self, shape: tuple[int, ...]) -> None:
        if self.shape != shape:
            if tuple(self.input["shape"]) != shape:
                self.interpreter.resize_tensor_input(self.input["index"], list(shape))
            self.interpreter.allocate_tensors()
            self.shape = shape

    def run(self, x: np.ndarray) -> np.ndarray:
        self.prepare(tuple(x.shape))
        self.interpreter.set_tensor(self.input["index"], np.ascontiguousarray(x, dtype=np.float32))
        self.interpreter.invoke()
        out = self.interpreter.get_output_details()[0]
        return self.interpreter.get_tensor(out["index"])  # type: ignore[no-any-return]


def run_tflite(data: bytes, x: np.ndarray) -> np.ndarray:
    """The output of flatbuffer `data` on `x`, run once in LiteRT's interpreter."""
    return TfliteRunner(data).run(x)
