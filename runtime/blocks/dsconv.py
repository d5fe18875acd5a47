"""dsconv: a depthwise-separable residual block, x + beta * pw(act(dw(x)))."""

from __future__ import annotations

import torch
from torch import nn

from archc.compiler.blocks.schemas.dsconv import DsconvParams
from archc.compiler.layers import activation, conv1x1, depthwise, residual_scale

__all__ = ["DSConvBlock", "DsconvParams", "build"]


class DSConvBlock(nn.Module):
    def __init__(self, c: int, p: DsconvParams) -> None:
        super().__init__()
        self.dw = depthwise(c, p.kernel)
        self.act = activation(p.act)
        self.pw = conv1x1(c, c)
        self.beta = residual_scale(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pw(self.act(self.dw(x))) * self.beta


def build(p: DsconvParams, c: int) -> nn.Module:
    return DSConvBlock(c, p)
