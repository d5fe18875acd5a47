"""mbconv: an inverted-residual block, x + beta * project(act(dw(act(expand(x)))))."""

from __future__ import annotations

from attrs import field, frozen

from archc.dsl.params import int_range, odd_int_range, one_of

from ..registry import register_block


@frozen
class MbconvParams:
    expand: int = field(default=4, validator=int_range(1, 8))
    kernel: int = field(default=3, validator=odd_int_range(1, 9))
    act: str = field(default="relu", validator=one_of(("relu", "gelu", "hardswish")))


def mbconv_macs(p: MbconvParams, c: int, h: int, w: int) -> int:
    hidden = c * p.expand
    return h * w * (c * hidden + hidden * p.kernel * p.kernel + hidden * c)


register_block(
    "mbconv",
    params=MbconvParams,
    build="archc.runtime.blocks.mbconv:build",
    macs=mbconv_macs,
    summary="inverted residual (MBConv): 1x1 expand, depthwise k x k, 1x1 project",
    train_maps=10.0,
    transformer=False,
)
