"""onednn_pointwise: every 1x1 conv runs on oneDNN, as PyTorch runs every other conv on CPU.

No arithmetic changes: the same convolution, `y = W x + c` per pixel. Why it is a pass: for a
batch-1, 1x1, stride-1 conv with one intra-op thread, PyTorch's CPU dispatch skips oneDNN and
takes its generic `slow_conv2d` path (an im2col-free GEMM plus layout copies). NAFNet's four 1x1
convs per block are 91 % of its MACs, and oneDNN's kernel, reading and writing channels-last
memory directly, runs them about 1.2-1.4x faster on this CPU (AVX-512). Torch only: in ONNX the
module exports as the same Conv node. Falls back to `F.conv2d` where oneDNN does not apply
(no oneDNN build, not a CPU float32 tensor).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Pass, is_pointwise


def _onednn(x: torch.Tensor) -> bool:
    return (x.device.type == "cpu" and x.dtype == torch.float32 and torch.backends.mkldnn.is_available()
            and not torch.onnx.is_in_onnx_export())


class OneDnnPointwise(nn.Module):
    """A 1x1 conv (N x C x H x W -> N x O x H x W) always run by oneDNN on CPU."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().clone())  # O x C x 1 x 1
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _onednn(x):
            return torch.ops.aten.mkldnn_convolution(x, self.weight, self.bias, [0, 0], [1, 1], [1, 1], 1)
        return F.conv2d(x, self.weight, self.bias)


def onednn_pointwise(model: nn.Module) -> nn.Module:
    """Every 1x1 Conv2d child replaced by a `OneDnnPointwise` with the same weights; in place."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if is_pointwise(child):
                setattr(parent, name, OneDnnPointwise(child))  # type: ignore[arg-type]
    return model


PASS = Pass("onednn_pointwise", onednn_pointwise, ("torch",), "1x1 convs -> oneDNN (torch, CPU)")
