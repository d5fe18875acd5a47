"""naf_relu: the NAFBlock with a plain activation in place of each SimpleGate."""

from __future__ import annotations

from attrs import field, frozen

from archc.dsl.params import int_range, is_switch, one_of

from ..registry import register_block


@frozen
class NafReluParams:
    dw_expand: int = field(default=1, validator=int_range(1, 8))
    ffn_expand: int = field(default=1, validator=int_range(1, 8))
    sca: bool = field(default=True, validator=is_switch)
    act: str = field(default="relu", validator=one_of(("relu", "gelu", "hardswish")))


def naf_relu_macs(p: NafReluParams, c: int, h: int, w: int) -> int:
    # without the gate the channel count is not halved, so conv3 and conv5 read the expanded width
    dw, ffn = c * p.dw_expand, c * p.ffn_expand
    per_pixel = c * dw + dw * 9 + dw * c + c * ffn + ffn * c
    return h * w * per_pixel + (dw * dw if p.sca else 0)


register_block(
    "naf_relu",
    params=NafReluParams,
    build="archc.runtime.blocks.naf_relu:build",
    macs=naf_relu_macs,
    summary="NAFBlock with a plain activation (relu, gelu, hardswish) in place of SimpleGate",
    train_maps=10.0,
    transformer=False,
)
