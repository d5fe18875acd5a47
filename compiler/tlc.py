"""TLC, the test-time local converter: make channel attention's global average local at test time.

A network trained on crops of size (H, W) sees SCA statistics over those crops; on a full frame the
global average covers far more. TLC swaps each global average pool for a stride-1 box mean whose
window is 1.5x the feature size seen in training (base size = 1.5 x train size), fixed by one
calibration pass at the training size. A feature map no larger than the window gets the plain
global average, so at the training size nothing changes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LocalAvgPool2d(nn.Module):
    """N x C x H x W -> N x C x H x W box means (or N x C x 1 x 1 when the window covers the map)."""

    def __init__(self, base_size: tuple[int, int], train_size: tuple[int, int]) -> None:
        super().__init__()
        self.base_size = base_size
        self.train_size = train_size
        self.kernel_size: tuple[int, int] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = int(x.shape[-2]), int(x.shape[-1])
        if self.kernel_size is None:  # the calibration pass at the training size
            self.kernel_size = (h * self.base_size[0] // self.train_size[0],
                                w * self.base_size[1] // self.train_size[1])
        kh, kw = self.kernel_size
        if kh >= h and kw >= w:
            return F.adaptive_avg_pool2d(x, 1)
        k1, k2 = min(h, kh), min(w, kw)
        out = F.avg_pool2d(x, (k1, k2), stride=1)
        dh, dw = h - out.shape[-2], w - out.shape[-1]
        return F.pad(out, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2), mode="replicate")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, base_size={self.base_size}, train_size={self.train_size}"


def apply_tlc(model: nn.Module, train_size: tuple[int, int], in_channels: int = 3) -> nn.Module:
    """Swap every AdaptiveAvgPool2d(1) for a LocalAvgPool2d and calibrate; in place, returns eval model.

    `train_size` is the (H, W) of the training crops (NAFNet: 256 x 256).
    """
    base = (int(train_size[0] * 1.5), int(train_size[1] * 1.5))
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.AdaptiveAvgPool2d) and child.output_size in (1, (1, 1)):
                setattr(parent, name, LocalAvgPool2d(base, (int(train_size[0]), int(train_size[1]))))
    model.eval()
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    device = param.device if param is not None else torch.device("cpu")
    with torch.no_grad():
        model(torch.zeros(1, in_channels, *train_size, dtype=dtype, device=device))
    return model
