"""naf_relu: the NAFBlock with a plain activation in place of each SimpleGate.

Without the gate the channel count is not halved, so conv3 and conv5 read the expanded width.
"""

from __future__ import annotations

import torch
from torch import nn

from archc.compiler.blocks.schemas.naf_relu import NafReluParams
from archc.compiler.layers import LayerNorm2d, activation, conv1x1, residual_scale

__all__ = ["NAFActBlock", "NafReluParams", "build"]


class NAFActBlock(nn.Module):
    def __init__(self, c: int, p: NafReluParams) -> None:
        super().__init__()
        dw, ffn = c * p.dw_expand, c * p.ffn_expand
        self.conv1 = conv1x1(c, dw)
        self.conv2 = nn.Conv2d(dw, dw, 3, padding=1, groups=dw, bias=True)
        self.conv3 = conv1x1(dw, c)
        if p.sca:
            self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), conv1x1(dw, dw))
        self.act = activation(p.act)
        self.conv4 = conv1x1(c, ffn)
        self.conv5 = conv1x1(ffn, c)
        self.norm1 = LayerNorm2d(c)
        self.norm2 = LayerNorm2d(c)
        self.beta = residual_scale(c)
        self.gamma = residual_scale(c)
        self.has_sca = p.sca

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv2(self.conv1(self.norm1(inp))))
        if self.has_sca:
            x = x * self.sca(x)
        y = inp + self.conv3(x) * self.beta
        x = self.conv5(self.act(self.conv4(self.norm2(y))))
        return y + x * self.gamma


def build(p: NafReluParams, c: int) -> nn.Module:
    return NAFActBlock(c, p)
