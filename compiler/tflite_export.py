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
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from archc.dsl.precision import canonical
from archc.errors import ExportError

from .files import write_bytes_atomic
from .mobile import (
    MAX_SIZE,
    MobileReport,
    check_request,
    dynamic_shapes,
    prepared,
    quiet,
    refused_op,
    require,
    sample_input,
    shape_text,
)
from .pte_export import _fit
from .quantize import Calibration, missing_calibration

RUNTIME = "LiteRT"


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
    precision = check_request("tflite", precision, calibration.method if calibration else "minmax")
    if precision == "w8a8" and calibration is None:
        raise missing_calibration(precision)
    if dynamic:
        raise ExportError(
            "LiteRT files have a fixed input size: litert-torch cannot lower PixelShuffle at a "
            "dynamic height and width",
            code="E0625",
            help="export at the size the app runs",
        )
    model = prepared(model)
    x = sample_input(model, in_channels, sample)
    t0 = time.perf_counter()
    try:
        with quiet(), torch.no_grad():
            data = _convert(model, x, dynamic, precision, calibration, max_size)
    except ExportError:
        raise
    except Exception as exc:  # the converter raises many types
        raise refused_op("tflite", exc) from exc
    return data, {"input": shape_text(model, dynamic, tuple(x.shape), max_size), "seconds": time.perf_counter() - t0}


def _convert(
    model: nn.Module, x: torch.Tensor, dynamic: bool, precision: str, calibration: Calibration | None, max_size: int
) -> bytes:
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
        return out.read_bytes()


def _quantized(model: nn.Module, x: torch.Tensor, calibration: Calibration) -> tuple[nn.Module, Any]:
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    graph = torch.export.export(model, (x,)).module()
    observed = prepare_pt2e(graph, quantizer)  # type: ignore[arg-type]
    for image in calibration.images:
        observed(_fit(torch.from_numpy(np.asarray(image, dtype=np.float32)), x))
    return convert_pt2e(observed, fold_quantize=False), QuantConfig(pt2e_quantizer=quantizer)


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
    data, facts = to_tflite(model, in_channels, sample, dynamic, precision, calibration, max_size)
    x = sample_input(model, in_channels, sample)
    diff = None
    if canonical(precision) == "fp32":
        with torch.no_grad():
            ref = model.eval()(x).numpy()
        diff = float(np.abs(run_tflite(data, x.numpy()) - ref).max())
    write_bytes_atomic(path, data)
    return MobileReport(
        str(path),
        "tflite",
        RUNTIME,
        canonical(precision),
        facts["input"],
        len(data),
        facts["seconds"],
        diff,
        calibration.source if calibration and precision != "fp32" else "",
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
