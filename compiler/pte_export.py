"""Module -> ExecuTorch program (`.pte`): `torch.export` with dynamic height and width, lowered with
the XNNPACK partitioner (what ExecuTorch runs on phone CPUs), written atomically.

INT8 (`w8a8` / `int8`) goes through ExecuTorch's own flow, PT2E with the XNNPACK quantizer:
symmetric int8 weights with one scale per output channel, asymmetric int8 activations whose ranges
are observed on the calibration images (the same crops as the QDQ ONNX export takes), then the
quantize / dequantize pairs the partitioner folds into XNNPACK's integer kernels. The observers
record min / max (the `minmax` method); other calibration methods and `w8a16` have no XNNPACK
kernels and are refused. Quantized programs are exported at the sample size (the PT2E graph does
not keep dynamic sizes), which the report states.

Needs the `executorch` package (`pip install 'archc[executorch]'`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
from .quantize import Calibration, missing_calibration

RUNTIME = "ExecuTorch (XNNPACK)"


def to_pte(
    model: nn.Module,
    in_channels: int = 3,
    sample: tuple[int, int] = (64, 64),
    dynamic: bool = True,
    precision: str = "fp32",
    calibration: Calibration | None = None,
    max_size: int = MAX_SIZE,
) -> tuple[bytes, dict[str, Any]]:
    """The `.pte` program of an eval-mode copy of `model`; returns (bytes, facts: `input`, `seconds`).

    Raises MissingRuntimeError without executorch, UnsupportedOpError naming an op it cannot take.
    """
    precision = check_request("pte", precision, calibration.method if calibration else "minmax")
    if precision == "w8a8" and calibration is None:
        raise missing_calibration(precision)
    model = prepared(model)
    x = sample_input(model, in_channels, sample)
    dynamic = dynamic and precision == "fp32"
    t0 = time.perf_counter()
    try:
        with quiet(), torch.no_grad():
            program = _lower(model, x, dynamic, precision, calibration, max_size)
    except ExportError:
        raise
    except Exception as exc:  # the exporter and the lowering raise many types
        raise refused_op("pte", exc) from exc
    facts = {"input": shape_text(model, dynamic, tuple(x.shape), max_size), "seconds": time.perf_counter() - t0}
    return program, facts


def _lower(
    model: nn.Module, x: torch.Tensor, dynamic: bool, precision: str, calibration: Calibration | None, max_size: int
) -> bytes:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    shapes = dynamic_shapes(model, max_size) if dynamic else None
    if precision == "w8a8":
        assert calibration is not None
        model = quantized_module(model, x, calibration)
    exported = torch.export.export(model, (x,), dynamic_shapes=shapes)
    edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
    return bytes(edge.to_executorch().buffer)


def quantized_module(model: nn.Module, x: torch.Tensor, calibration: Calibration) -> nn.Module:
    """`model` through PT2E with the XNNPACK quantizer, observed on `calibration`'s images."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    graph = torch.export.export(model, (x,)).module()
    observed = prepare_pt2e(graph, quantizer)  # type: ignore[arg-type]
    for image in calibration.images:
        observed(_fit(torch.from_numpy(np.asarray(image, dtype=np.float32)), x))
    return convert_pt2e(observed)  # type: ignore[no-any-return]


def _fit(image: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A calibration image at the exported (fixed) size: centre-cropped, or tiled when smaller."""
    h, w = x.shape[-2:]
    image = image.reshape(-1, *image.shape[-3:])[:1]
    reps = (1, 1, -(-h // image.shape[-2]), -(-w // image.shape[-1]))
    image = image.repeat(reps)
    top, left = (image.shape[-2] - h) // 2, (image.shape[-1] - w) // 2
    return image[..., top : top + h, left : left + w].contiguous()


def export_pte(
    model: nn.Module,
    path: str | Path,
    in_channels: int = 3,
    sample: tuple[int, int] = (64, 64),
    dynamic: bool = True,
    precision: str = "fp32",
    calibration: Calibration | None = None,
    max_size: int = MAX_SIZE,
) -> MobileReport:
    """Write `model` as an ExecuTorch program at `path` (atomically) and check it in the runtime."""
    data, facts = to_pte(model, in_channels, sample, dynamic, precision, calibration, max_size)
    x = sample_input(model, in_channels, sample)
    diff = None
    if canonical(precision) == "fp32":
        with torch.no_grad():
            ref = model.eval()(x).numpy()
        diff = float(np.abs(run_pte(data, x.numpy()) - ref).max())
    write_bytes_atomic(path, data)
    return MobileReport(
        str(path),
        "pte",
        RUNTIME,
        canonical(precision),
        facts["input"],
        len(data),
        facts["seconds"],
        diff,
        calibration.source if calibration and precision != "fp32" else "",
    )


class PteRunner:
    """One loaded `.pte` program: `run(x)` with `x` a `1 x C x H x W` float32 array."""

    def __init__(self, data: bytes) -> None:
        require("pte")
        from executorch.runtime import Runtime

        with quiet():
            self.program = Runtime.get().load_program(data)
            self.method = self.program.load_method("forward")

    def run(self, x: np.ndarray) -> np.ndarray:
        out: Sequence[Any] = self.method.execute([torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))])
        return out[0].numpy()  # type: ignore[no-any-return]


def run_pte(data: bytes, x: np.ndarray) -> np.ndarray:
    """The output of program `data` on `x`, run once in the ExecuTorch runtime."""
    return PteRunner(data).run(x)
