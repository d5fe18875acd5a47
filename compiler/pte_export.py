"""Module -> ExecuTorch program (`.pte`): `torch.export` with dynamic height and width, lowered with
the XNNPACK partitioner (what ExecuTorch runs on phone CPUs), written atomically.

A copy of the network is first rewritten into the forms XNNPACK takes (`xnnpack_forms.py`: channel
norms, channel splits, Restormer's L2 norm and the pixel shuffles), so the partitioner delegates it
whole instead of cutting it into a piece between every op it refuses (nafnet_tiny: 69 pieces before,
1 after); what a program leaves outside XNNPACK is counted by `delegation`.

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

import operator
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .mobile import MAX_SIZE, MobileReport, convert, dynamic_shapes, export_checked, observed, quiet, require
from .quantize import Calibration
from .xnnpack_forms import xnnpack_forms


def to_pte(
    model: nn.Module,
    in_channels: int = 3,
    sample: tuple[int, int] = (64, 64),
    dynamic: bool = True,
    precision: str = "fp32",
    calibration: Calibration | None = None,
    max_size: int = MAX_SIZE,
) -> tuple[bytes, dict[str, Any]]:
    """The `.pte` program of an eval-mode copy of `model`; returns (bytes, facts: `input`, `seconds`,
    `extra`: `xnnpack_pieces` and `outside_xnnpack`, the ops left to ExecuTorch's portable kernels).

    Raises MissingRuntimeError without executorch, UnsupportedOpError naming an op it cannot take.
    """
    return convert("pte", _lower, model, in_channels, sample, dynamic, precision, calibration, max_size)


def _lower(
    model: nn.Module, x: torch.Tensor, dynamic: bool, precision: str, calibration: Calibration | None, max_size: int
) -> tuple[bytes, dict[str, Any]]:
    edge = lowered(model, x, dynamic, precision, calibration, max_size)
    pieces, outside = delegation(edge)  # before to_executorch adds its memory planning
    return bytes(edge.to_executorch().buffer), {"xnnpack_pieces": pieces, "outside_xnnpack": dict(outside)}


def lowered(
    model: nn.Module,
    x: torch.Tensor,
    dynamic: bool,
    precision: str,
    calibration: Calibration | None,
    max_size: int = MAX_SIZE,
    forms: bool = True,
) -> Any:
    """The edge program of `model` (prepared, eval mode) with XNNPACK's pieces delegated; `forms`
    first rewrites a copy of the model into the forms XNNPACK takes (`xnnpack_forms`)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    shapes = dynamic_shapes(model, max_size) if dynamic else None
    if forms:
        model = xnnpack_forms(model)
    if precision == "w8a8":
        assert calibration is not None
        model = quantized_module(model, x, calibration)
    exported = torch.export.export(model, (x,), dynamic_shapes=shapes)
    return to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])


def delegation(edge: Any) -> tuple[int, Counter[str]]:
    """(the number of pieces delegated to XNNPACK, the ops left outside them by name) of an edge program."""
    pieces, outside = 0, Counter[str]()
    for node in edge.exported_program().graph_module.graph.nodes:
        if node.op != "call_function" or node.target is operator.getitem:
            continue
        name = getattr(node.target, "__name__", str(node.target))
        if "executorch_call_delegate" in name:
            pieces += 1
        else:
            outside[name] += 1
    return pieces, outside


def quantized_module(model: nn.Module, x: torch.Tensor, calibration: Calibration) -> nn.Module:
    """`model` through PT2E with the XNNPACK quantizer, observed on `calibration`'s images."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    return convert_pt2e(observed(model, x, quantizer, calibration))  # type: ignore[no-any-return]


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
    return export_checked(
        "pte", to_pte, run_pte, model, path, in_channels, sample, dynamic, precision, calibration, max_size
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
