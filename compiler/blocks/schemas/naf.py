"""naf: the NAFBlock of NAFNet (layer norm, SimpleGate, simplified channel attention)."""

from __future__ import annotations

from attrs import field, frozen

from archc.dsl.params import even_int_range, is_switch

from ..registry import register_block


@frozen
class NafParams:
    dw_expand: int = field(default=2, validator=even_int_range(2, 8))
    ffn_expand: int = field(default=2, validator=even_int_range(2, 8))
    sca: bool = field(default=True, validator=is_switch)


def naf_macs(p: NafParams, c: int, h: int, w: int) -> int:
    dw, ffn = c * p.dw_expand, c * p.ffn_expand
    per_pixel = c * dw + dw * 9 + (dw // 2) * c + c * ffn + (ffn // 2) * c
    return h * w * per_pixel + ((dw // 2) ** 2 if p.sca else 0)


register_block(
    "naf",
    params=NafParams,
    build="archc.runtime.blocks.naf:build",
    macs=naf_macs,
    summary="NAFBlock: LayerNorm2d, SimpleGate, simplified channel attention (NAFNet)",
    train_maps=15.0,
    transformer=False,
)
