"""naf: the NAFBlock (state_dict keys and numerics as in NAFNet)."""

from __future__ import annotations

import torch
from torch import nn

from archc.compiler.blocks.schemas.naf import NafParams, naf_macs
from archc.compiler.layers import LayerNorm2d, SimpleGate, conv1x1, residual_scale, scaled

__all__ = ["NAFBlock", "NafParams", "build", "naf_macs"]


class NAFBlock(nn.Module):
    """x -> x + beta * conv3(sca(sg(dwconv(conv1(norm1(x)))))) -> y + gamma * conv5(sg(conv4(norm2(y)))).

    The class attributes name the block's linear patterns for the inference passes
    (`compiler/passes/`): which norm feeds which 1x1 conv, which residual scale follows which conv,
    and which conv chains feed the SimpleGate. A pass may set `beta` / `gamma` to None (folded).
    """

    NORM_FEEDS = (("norm1", "conv1"), ("norm2", "conv4"))
    RESIDUAL_SCALES = (("beta", "conv3"), ("gamma", "conv5"))
    GATE_CHAINS = (("conv1", "conv2"), ("conv4",))

    def __init__(self, c: int, dw_expand: int = 2, ffn_expand: int = 2, sca: bool = True,
                 norm: type[nn.Module] = LayerNorm2d) -> None:
        super().__init__()
        dw = c * dw_expand
        ffn = c * ffn_expand
        self.conv1 = conv1x1(c, dw)
        self.conv2 = nn.Conv2d(dw, dw, 3, padding=1, groups=dw, bias=True)
        self.conv3 = conv1x1(dw // 2, c)
        if sca:
            self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), conv1x1(dw // 2, dw // 2))
        self.sg = SimpleGate()
        self.conv4 = conv1x1(c, ffn)
        self.conv5 = conv1x1(ffn // 2, c)
        self.norm1 = norm(c)
        self.norm2 = norm(c)
        self.beta = residual_scale(c)
        self.gamma = residual_scale(c)
        self.has_sca = sca

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.sg(self.conv2(self.conv1(self.norm1(inp))))
        if self.has_sca:
            x = x * self.sca(x)
        y = inp + scaled(self.conv3(x), self.beta)
        x = self.conv5(self.sg(self.conv4(self.norm2(y))))
        return y + scaled(x, self.gamma)


def build(p: NafParams, c: int) -> nn.Module:
    return NAFBlock(c, p.dw_expand, p.ffn_expand, p.sca)

