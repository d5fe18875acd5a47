"""An independent NAFNet written from the facts (shared/facts/nafnet.md), used as the reference
that spec-built models must equal. It deliberately shares no code with archc."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RefLayerNorm2d(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.c = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channels-last LayerNorm over C with eps 1e-6 (the facts' equivalent form)
        y = F.layer_norm(x.permute(0, 2, 3, 1), (self.c,), self.weight, self.bias, 1e-6)
        return y.permute(0, 3, 1, 2)


class RefBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.conv1 = nn.Conv2d(c, 2 * c, 1)
        self.conv2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.conv3 = nn.Conv2d(c, c, 1)
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, 1))
        self.conv4 = nn.Conv2d(c, 2 * c, 1)
        self.conv5 = nn.Conv2d(c, c, 1)
        self.norm1 = RefLayerNorm2d(c)
        self.norm2 = RefLayerNorm2d(c)

    @staticmethod
    def gate(x: torch.Tensor) -> torch.Tensor:
        half = x.shape[1] // 2
        return x[:, :half] * x[:, half:]

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.gate(self.conv2(self.conv1(self.norm1(inp))))
        x = self.conv3(x * self.sca(x))
        y = inp + x * self.beta
        x = self.conv5(self.gate(self.conv4(self.norm2(y))))
        return y + x * self.gamma


class RefNAFNet(nn.Module):
    def __init__(self, width: int, enc: list[int], middle: int, dec: list[int], img: int = 3) -> None:
        super().__init__()
        self.intro = nn.Conv2d(img, width, 3, padding=1)
        self.ending = nn.Conv2d(width, img, 3, padding=1)
        self.encoders = nn.ModuleList()
        self.decoders = nn.ModuleList()
        self.middle_blks = nn.Sequential()  # registered here: NAFNet's state_dict order
        self.ups = nn.ModuleList()
        self.downs = nn.ModuleList()
        c = width
        for n in enc:
            self.encoders.append(nn.Sequential(*[RefBlock(c) for _ in range(n)]))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, 2))
            c *= 2
        self.middle_blks = nn.Sequential(*[RefBlock(c) for _ in range(middle)])
        for n in dec:
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(nn.Sequential(*[RefBlock(c) for _ in range(n)]))
        self.mult = 2 ** len(enc)

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        h, w = inp.shape[-2:]
        x = F.pad(inp, (0, (-w) % self.mult, 0, (-h) % self.mult))
        f = self.intro(x)
        skips = []
        for e, d in zip(self.encoders, self.downs, strict=True):
            f = e(f)
            skips.append(f)
            f = d(f)
        f = self.middle_blks(f)
        for dec, up, s in zip(self.decoders, self.ups, skips[::-1], strict=True):
            f = dec(up(f) + s)
        return (self.ending(f) + x)[..., :h, :w]


def tiny() -> RefNAFNet:
    return RefNAFNet(8, [1, 1, 1, 2], 1, [1, 1, 1, 1])


def gopro_w32() -> RefNAFNet:
    return RefNAFNet(32, [1, 1, 1, 28], 1, [1, 1, 1, 1])
