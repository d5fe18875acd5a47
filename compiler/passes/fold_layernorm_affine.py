"""fold_layernorm_affine: a LayerNorm's per-channel affine moves into the 1x1 conv it feeds.

With n the normalised input (zero mean, unit variance over channels, per pixel), the LayerNorm
returns `w * n + b`; the 1x1 conv (W, c) that reads it gives

    W (w * n + b) + c = (W diag(w)) n + (W b + c)

so W' = W * w (each input channel scaled) and c' = c + W b, and the LayerNorm keeps only its
normalisation (weight and bias None). Exact up to float rounding. It rewrites the torch module
(not the ONNX graph) because the block declares which norm feeds which conv (`NORM_FEEDS`); in
the exported graph it removes the Mul/Add of the affine (or LayerNormalization's scale and
bias), and in torch two element-wise passes per norm.
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import LayerNorm2d
from .base import Pass, blocks_declaring, is_pointwise


def fold_norm_affine(norm: LayerNorm2d, conv: nn.Conv2d) -> None:
    """Fold `norm`'s affine into `conv` (which reads `norm`'s output); in place."""
    assert norm.weight is not None and norm.bias is not None
    with torch.no_grad():
        w = conv.weight[:, :, 0, 0]  # cout x cin
        shift = w @ norm.bias
        conv.weight.mul_(norm.weight.view(1, -1, 1, 1))
        if conv.bias is None:
            conv.bias = nn.Parameter(shift.clone())
        else:
            conv.bias.add_(shift)
    norm.weight = None
    norm.bias = None


def fold_layernorm_affine(model: nn.Module) -> nn.Module:
    """Every declared (LayerNorm2d -> 1x1 conv) pair loses the affine; in place."""
    for block in blocks_declaring(model, "NORM_FEEDS"):
        for norm_name, conv_name in type(block).NORM_FEEDS:  # type: ignore[attr-defined]
            norm, conv = getattr(block, norm_name), getattr(block, conv_name)
            if isinstance(norm, LayerNorm2d) and norm.weight is not None and is_pointwise(conv):
                fold_norm_affine(norm, conv)
    return model


PASS = Pass("fold_layernorm_affine", fold_layernorm_affine, ("onnx", "torch"),
            "LayerNorm's weight and bias -> the following 1x1 conv")
