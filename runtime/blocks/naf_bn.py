"""naf_bn: the NAFBlock with BatchNorm2d in place of LayerNorm2d.

BatchNorm needs no per-pixel reduction, and at export each BatchNorm folds into the 1x1 conv
that follows it, so the exported graph has no normalisation op at all.
"""

from __future__ import annotations

from torch import nn

from archc.compiler.blocks.schemas.naf_bn import NafBnParams
from archc.compiler.layers import fold_bn_into_conv

from .naf import NAFBlock

__all__ = ["NAFBnBlock", "NafBnParams", "build"]


class NAFBnBlock(NAFBlock):
    def __init__(self, c: int, dw_expand: int = 2, ffn_expand: int = 2, sca: bool = True) -> None:
        super().__init__(c, dw_expand, ffn_expand, sca, norm=nn.BatchNorm2d)

    def fold_for_export(self) -> None:
        """Fold both BatchNorms into conv1 / conv4 (eval statistics); in place."""
        if isinstance(self.norm1, nn.BatchNorm2d) and isinstance(self.norm2, nn.BatchNorm2d):
            fold_bn_into_conv(self.norm1, self.conv1)
            fold_bn_into_conv(self.norm2, self.conv4)
            self.norm1 = nn.Identity()
            self.norm2 = nn.Identity()


def build(p: NafBnParams, c: int) -> nn.Module:
    return NAFBnBlock(c, p.dw_expand, p.ffn_expand, p.sca)

