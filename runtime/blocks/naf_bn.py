"""naf_bn: the NAFBlock with BatchNorm2d in place of LayerNorm2d.

BatchNorm needs no per-pixel reduction, and at export each BatchNorm folds into the 1x1 conv
that follows it, so the exported graph has no normalisation op at all.
"""

from __future__ import annotations

from attrs import field, frozen
from torch import nn

from archc.dsl.params import even_int_range, is_switch

from .layers import fold_bn_into_conv
from .naf import NAFBlock, NafParams, naf_macs
from .registry import register_block


@frozen
class NafBnParams:
    dw_expand: int = field(default=2, validator=even_int_range(2, 8))
    ffn_expand: int = field(default=2, validator=even_int_range(2, 8))
    sca: bool = field(default=True, validator=is_switch)


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


def _macs(p: NafBnParams, c: int, h: int, w: int) -> int:
    return naf_macs(NafParams(p.dw_expand, p.ffn_expand, p.sca), c, h, w)


def _build(p: NafBnParams, c: int) -> nn.Module:
    return NAFBnBlock(c, p.dw_expand, p.ffn_expand, p.sca)


register_block("naf_bn", params=NafBnParams, build=_build, macs=_macs,
               summary="NAFBlock with BatchNorm (folded into the 1x1 convs at export) in place of LayerNorm2d")
