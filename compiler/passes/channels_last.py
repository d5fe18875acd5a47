"""channels_last: the module's 4-D weights (and so its activations) in NHWC memory order.

No arithmetic changes: `Tensor.to(memory_format=channels_last)` only reorders memory, and a
convolution whose weight is channels-last returns a channels-last result, so after the first conv
the whole network runs NHWC. What it buys in torch on CPU: oneDNN convolutions without layout
conversions, and a channel LayerNorm that is a plain contiguous LayerNorm over the last axis
(`LayerNorm2d` takes that path on channels-last input: no transposed copies). Torch only: an
ONNX graph has no memory format (ONNX Runtime picks its own blocked layout).
"""

from __future__ import annotations

import torch
from torch import nn

from .base import Pass


def channels_last(model: nn.Module) -> nn.Module:
    """The same module with its 4-D parameters and buffers in channels-last order; in place."""
    return model.to(memory_format=torch.channels_last)  # type: ignore[call-overload,no-any-return]


PASS = Pass("channels_last", channels_last, ("torch",), "weights and activations NHWC in memory (torch)")
