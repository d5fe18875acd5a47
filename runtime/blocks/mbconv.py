"""mbconv: an inverted-residual block, x + beta * project(act(dw(act(expand(x)))))."""

from __future__ import annotations

import torch
from attrs import field, frozen
from torch import nn

from archc.dsl.params import int_range, odd_int_range, one_of

from .layers import activation, conv1x1, depthwise, residual_scale
from .registry import register_block


@frozen
class MbconvParams:
    expand: int = field(default=4, validator=int_range(1, 8))
    kernel: int = field(default=3, validator=odd_int_range(1, 9))
    act: str = field(default="relu", validator=one_of(("relu", "gelu", "hardswish")))


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


def _macs(p: MbconvParams, c: int, h: int, w: int) -> int:
    hidden = c * p.expand
    return h * w * (c * hidden + hidden * p.kernel * p.kernel + hidden * c)


register_block("mbconv", params=MbconvParams, build=lambda p, c: MBConvBlock(c, p), macs=_macs,
               summary="inverted residual (MBConv): 1x1 expand, depthwise k x k, 1x1 project")
