"""fold_batchnorm: an eval-mode BatchNorm that feeds a 1x1 conv disappears into that conv.

BatchNorm with running mean m, variance v, affine (w, b) and eps e is per channel
`bn(x) = a * x + t` with `a = w / sqrt(v + e)` and `t = b - m * a`; so for the 1x1 conv (W, c):

    conv(bn(x)) = W (a * x + t) + c = (W diag(a)) x + (W t + c)

i.e. W' = W * a (scaling input channels) and c' = c + W t. The blocks that can hold a BatchNorm
know which conv it feeds and implement `fold_for_export()` (naf_bn: norm1 -> conv1,
norm2 -> conv4, with `layers.fold_bn_into_conv`); this pass calls every such hook. It runs on
the torch module so the exported graph never contains the normalisation at all.
"""

from __future__ import annotations

from torch import nn

from .base import Pass


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Call every block's `fold_for_export()` (eval statistics); in place."""
    for module in list(model.modules()):
        fold = getattr(module, "fold_for_export", None)
        if callable(fold):
            fold()
    return model


PASS = Pass("fold_batchnorm", fold_batchnorm, ("onnx", "torch"), "BatchNorm -> the 1x1 conv it feeds (naf_bn)")
