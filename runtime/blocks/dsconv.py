"""dsconv: a depthwise-separable residual block, x + beta * pw(act(dw(x)))."""

from __future__ import annotations

import torch
from attrs import field, frozen
from torch import nn

from archc.dsl.params import odd_int_range, one_of

from .layers import activation, conv1x1, depthwise, residual_scale
from .registry import register_block


@frozen
class DsconvParams:
    kernel: int = field(default=3, validator=odd_int_range(1, 9))
    act: str = field(default="relu", validator=one_of(("relu", "gelu", "hardswish")))


class DSConvBlock(nn.Module):
    def __init__(self, c: int, p: DsconvParams) -> None:
        super().__init__()
        self.dw = depthwise(c, p.kernel)
        self.act = activation(p.act)
        self.pw = conv1x1(c, c)
        self.beta = residual_scale(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pw(self.act(self.dw(x))) * self.beta


def _macs(p: DsconvParams, c: int, h: int, w: int) -> int:
    return h * w * (c * p.kernel * p.kernel + c * c)


register_block("dsconv", params=DsconvParams, build=lambda p, c: DSConvBlock(c, p), macs=_macs,
               summary="depthwise-separable residual block: depthwise k x k, activation, pointwise 1x1")
