"""An exported network run by ONNX Runtime, callable like the torch module it came from.

`archc eval --precision P` scores what a device would run: the ONNX graph of that precision
(`compiler/precision.py`: FP32, FP16, or the QDQ W8A8 / W8A16 graphs), executed by ONNX Runtime's
CPU provider, through the same evaluation code (`runtime.evaluation.evaluate`) as the torch module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from archc.compiler.onnx_export import INPUT, to_onnx_model
from archc.compiler.passes import passes_for
from archc.compiler.quantize import Calibration


class OnnxNetwork(nn.Module):
    """`N x C x H x W` float32 tensor -> the graph's output, on the CPU. It has no parameters, so
    every caller that places inputs on a network's device places them on the CPU."""

    def __init__(self, proto: Any, padder_size: int = 1, threads: int | None = None) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self.padder_size = padder_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = np.ascontiguousarray(x.detach().cpu().float().numpy())
        return torch.from_numpy(self.session.run(None, {INPUT: batch})[0])


def onnx_network(model: nn.Module, precision: str, calibration: Calibration | None = None, in_channels: int = 3,
                 level: int = 2, threads: int | None = None) -> OnnxNetwork:
    """`model` exported at -O`level` in `precision` (quantized ones calibrated on `calibration`)."""
    proto, _ = to_onnx_model(model.cpu().eval(), in_channels, passes=passes_for(level), precision=precision,
                             calibration=calibration)
    return OnnxNetwork(proto, int(getattr(model, "padder_size", 1)), threads)
