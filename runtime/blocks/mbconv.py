"""mbconv: an inverted-residual block, x + beta * project(act(dw(act(expand(x)))))."""

from __future__ import annotations

import torch
from torch import nn

from archc.compiler.blocks.schemas.mbconv import MbconvParams
from archc.compiler.layers import activation, conv1x1, depthwise, residual_scale

__all__ = ["MBConvBlock", "MbconvParams", "build"]


class MBConvBlock(nn.Module):
    def __init__(self, c: int, p: MbconvParams) -> None:
        super().__init__()
        hidden = c * p.expand
        self.expand = conv1x1(c, hidden)
        self.act1 = activation(p.act)
        self.dw = depthwise(hidden, p.kernel)
        self.act2 = activation(p.act)
        self.project = conv1x1(hidden, c)
        self.beta = residual_scale(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act2(self.dw(self.act1(self.expand(x))))
        return x + self.project(h) * self.beta


def build(p: MbconvParams, c: int) -> nn.Module:
    return MBConvBlock(c, p)
