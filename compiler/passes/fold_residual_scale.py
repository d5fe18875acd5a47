"""fold_residual_scale: a residual branch's per-channel scale moves into the conv before it.

NAFNet's blocks add `s * conv(x)` to the residual stream (s = beta or gamma, 1 x C x 1 x 1).
For the conv (W, c) with C output channels:

    s * (W x + c) = (diag(s) W) x + s * c

so W' = W scaled per output channel and c' = s * c, and the block adds `conv(x)` directly
(its `beta` / `gamma` become None). Exact up to float rounding. Rewritten on the torch module
(the block declares the pairs in `RESIDUAL_SCALES`), which removes one Mul per branch from both
the exported graph and the torch forward.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import Pass, blocks_declaring


def fold_scale(scale: torch.Tensor, conv: nn.Conv2d) -> None:
    """Scale `conv`'s output channels by `scale` (any shape with C elements); in place."""
    s = scale.detach().reshape(-1)
    with torch.no_grad():
        conv.weight.mul_(s.view(-1, 1, 1, 1))
        if conv.bias is not None:
            conv.bias.mul_(s)


def fold_residual_scale(model: nn.Module) -> nn.Module:
    """Every declared (scale, conv) pair: scale folded into the conv, the scale set to None; in place."""
    for block in blocks_declaring(model, "RESIDUAL_SCALES"):
        for scale_name, conv_name in type(block).RESIDUAL_SCALES:  # type: ignore[attr-defined]
            scale, conv = getattr(block, scale_name), getattr(block, conv_name)
            if isinstance(scale, torch.Tensor) and isinstance(conv, nn.Conv2d):
                fold_scale(scale, conv)
                setattr(block, scale_name, None)
    return model


PASS = Pass("fold_residual_scale", fold_residual_scale, ("onnx", "torch"),
            "residual scales beta, gamma -> the conv before them")
