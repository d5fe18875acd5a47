"""The torch modules of the macro operations (stem, head, down, up, skip merge, feature skip).

One builder per kind, in tables keyed by the kinds of dsl/macro.py (which holds their facts: default
bias, kernel area, shuffle factor). Every kind keeps the key layout of the network it comes from, so
NAFNet's ops stay single convs (`downs.0.weight`) or `Sequential(conv, PixelShuffle)`
(`ups.0.0.weight`) and Restormer's `body.0` convs map to `downs.0.0` / `ups.0.0`. An activation is
a parameter-free module after the conv: a single conv then becomes `Sequential(conv, act)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

Node = dict[str, Any]

_ACTS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "lrelu": lambda: nn.LeakyReLU(0.2),
    "gelu": nn.GELU,
}


def activation(name: str) -> nn.Module | None:
    return None if name == "none" else _ACTS[name]()


def _with_act(mods: list[nn.Module], d: Node) -> nn.Module:
    act = activation(d["act"])
    mods = [*mods, act] if act is not None else mods
    return mods[0] if len(mods) == 1 else nn.Sequential(*mods)


def _conv(cin: int, cout: int, k: int, d: Node) -> nn.Conv2d:
    """A size-keeping conv (odd `k`)."""
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=d["bias"])


# down: channels_in at level l -> channels_out at level l + 1
_DOWNS: dict[str, Callable[[int, int, Node], list[nn.Module]]] = {
    "conv2x2": lambda i, o, d: [nn.Conv2d(i, o, 2, stride=2, bias=d["bias"])],
    "conv4x4": lambda i, o, d: [nn.Conv2d(i, o, 4, stride=2, padding=1, bias=d["bias"])],
    "conv3x3": lambda i, o, d: [nn.Conv2d(i, o, 3, stride=2, padding=1, bias=d["bias"])],
    "conv3x3_unshuffle": lambda i, o, d: [_conv(i, o // 4, 3, d), nn.PixelUnshuffle(2)],
}
# up: channels_in at level l + 1 -> channels_out at level l
_UPS: dict[str, Callable[[int, int, Node], list[nn.Module]]] = {
    "pixelshuffle": lambda i, o, d: [nn.Conv2d(i, 4 * o, 1, bias=d["bias"]), nn.PixelShuffle(2)],
    "conv3x3_shuffle": lambda i, o, d: [_conv(i, 4 * o, 3, d), nn.PixelShuffle(2)],
    "transpose2x2": lambda i, o, d: [nn.ConvTranspose2d(i, o, 2, stride=2, bias=d["bias"])],
    "transpose4x4": lambda i, o, d: [nn.ConvTranspose2d(i, o, 4, stride=2, padding=1, bias=d["bias"])],
}


def down(d: Node) -> nn.Module:
    return _with_act(_DOWNS[d["op"]](d["channels_in"], d["channels_out"], d), d)


def up(d: Node) -> nn.Module:
    return _with_act(_UPS[d["op"]](d["channels_in"], d["channels_out"], d), d)


def conv3x3(d: Node) -> nn.Conv2d:
    """Stem and head: a 3x3 conv (the network applies their activation, so the key stays `intro.weight`)."""
    return _conv(d["channels_in"], d["channels_out"], 3, d)


def conv1x1(d: Node) -> nn.Module:
    """A skip's reduce conv or the feature skip: 1x1, with its activation."""
    return _with_act([nn.Conv2d(d["channels_in"], d["channels_out"], 1, bias=d["bias"])], d)


class Merge(nn.Module):
    """A decoder's skip: `up + enc` (add), `[up, enc]` along channels (concat), or that then a 1x1
    conv (concat_reduce, under the key `reduce`). `b x c x h x w` each in; `b x c' x h x w` out."""

    def __init__(self, d: Node) -> None:
        super().__init__()
        self.kind = d["op"]
        if self.kind == "concat_reduce":
            self.reduce = conv1x1(d)

    def forward(self, upsampled: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        if self.kind == "add":
            return upsampled + skip
        merged = torch.cat([upsampled, skip], dim=1)
        return self.reduce(merged) if self.kind == "concat_reduce" else merged
