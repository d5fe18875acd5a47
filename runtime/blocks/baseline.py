"""baseline: the BaselineBlock (state_dict keys and numerics as in NAFNet's Baseline)."""

from __future__ import annotations

import torch
from torch import nn

from archc.compiler.blocks.schemas.baseline import BaselineParams, baseline_macs
from archc.compiler.layers import LayerNorm2d, conv1x1, depthwise, residual_scale, scaled

__all__ = ["BaselineBlock", "BaselineParams", "baseline_macs", "build"]


class BaselineBlock(nn.Module):
    """x -> x + beta * conv3(se(gelu(conv2(conv1(norm1(x)))))) -> y + gamma * conv5(gelu(conv4(norm2(y)))).

    `se(t) = t * sigmoid(1x1(relu(1x1(avgpool(t)))))` with the hidden width halved (keys `se.1`,
    `se.3`). Shapes: `b x c x h x w` in and out. The children are registered in the official order,
    so `state_dict()` lists the keys as NAFNet's Baseline does.
    """

    NORM_FEEDS = (("norm1", "conv1"), ("norm2", "conv4"))
    RESIDUAL_SCALES = (("beta", "conv3"), ("gamma", "conv5"))

    def __init__(self, c: int, dw_expand: int = 1, ffn_expand: int = 2) -> None:
        super().__init__()
        dw, ffn = c * dw_expand, c * ffn_expand
        self.beta = residual_scale(c)
        self.gamma = residual_scale(c)
        self.conv1 = conv1x1(c, dw)
        self.conv2 = depthwise(dw, 3)
        self.conv3 = conv1x1(dw, c)
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), conv1x1(dw, dw // 2), nn.ReLU(), conv1x1(dw // 2, dw), nn.Sigmoid()
        )
        self.conv4 = conv1x1(c, ffn)
        self.conv5 = conv1x1(ffn, c)
        self.norm1 = LayerNorm2d(c)
        self.norm2 = LayerNorm2d(c)
        self.gelu = nn.GELU()

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.gelu(self.conv2(self.conv1(self.norm1(inp))))
        x = x * self.se(x)
        y = inp + scaled(self.conv3(x), self.beta)
        x = self.conv5(self.gelu(self.conv4(self.norm2(y))))
        return y + scaled(x, self.gamma)


def build(p: BaselineParams, c: int) -> nn.Module:
    return BaselineBlock(c, p.dw_expand, p.ffn_expand)
