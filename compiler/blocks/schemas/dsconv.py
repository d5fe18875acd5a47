"""dsconv: a depthwise-separable residual block, x + beta * pw(act(dw(x)))."""

from __future__ import annotations

from attrs import field, frozen

from archc.dsl.params import odd_int_range, one_of

from ..registry import register_block


@frozen
class DsconvParams:
    kernel: int = field(default=3, validator=odd_int_range(1, 9))
    act: str = field(default="relu", validator=one_of(("relu", "gelu", "hardswish")))


def dsconv_macs(p: DsconvParams, c: int, h: int, w: int) -> int:
    return h * w * (c * p.kernel * p.kernel + c * c)


register_block(
    "dsconv",
    params=DsconvParams,
    build="archc.runtime.blocks.dsconv:build",
    macs=dsconv_macs,
    summary="depthwise-separable residual block: depthwise k x k, activation, pointwise 1x1",
    train_maps=3.0,
    transformer=False,
)
