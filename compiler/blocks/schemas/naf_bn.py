"""naf_bn: the NAFBlock with BatchNorm2d in place of LayerNorm2d (folded into the 1x1 convs at export)."""

from __future__ import annotations

from attrs import field, frozen

from archc.dsl.params import even_int_range, is_switch

from ..registry import register_block
from .naf import NafParams, naf_macs


@frozen
class NafBnParams:
    dw_expand: int = field(default=2, validator=even_int_range(2, 8))
    ffn_expand: int = field(default=2, validator=even_int_range(2, 8))
    sca: bool = field(default=True, validator=is_switch)


def naf_bn_macs(p: NafBnParams, c: int, h: int, w: int) -> int:
    return naf_macs(NafParams(p.dw_expand, p.ffn_expand, p.sca), c, h, w)


register_block(
    "naf_bn",
    params=NafBnParams,
    build="archc.runtime.blocks.naf_bn:build",
    macs=naf_bn_macs,
    summary="NAFBlock with BatchNorm (folded into the 1x1 convs at export) in place of LayerNorm2d",
    train_maps=15.0,
    transformer=False,
)
