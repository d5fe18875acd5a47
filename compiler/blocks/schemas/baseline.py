"""baseline: the BaselineBlock of NAFNet's Baseline (LayerNorm2d, GELU, squeeze-excitation).

The defaults are the official `Baseline` class's (`dw_expand=1, ffn_expand=2`), which are also the
width-32 GoPro and SIDD configurations; the width-64 ones and the test fixture use `dw_expand=2`.
"""

from __future__ import annotations

from attrs import field, frozen

from archc.dsl.params import int_range

from ..registry import register_block


@frozen
class BaselineParams:
    dw_expand: int = field(default=1, validator=int_range(1, 8))
    ffn_expand: int = field(default=2, validator=int_range(1, 8))


def baseline_macs(p: BaselineParams, c: int, h: int, w: int) -> int:
    # no gate: conv3 and conv5 read the full expanded width; the SE convs run on the pooled 1 x 1 map
    dw, ffn = c * p.dw_expand, c * p.ffn_expand
    per_pixel = c * dw + dw * 9 + dw * c + c * ffn + ffn * c
    return h * w * per_pixel + 2 * dw * (dw // 2)


register_block(
    "baseline",
    params=BaselineParams,
    build="archc.runtime.blocks.baseline:build",
    macs=baseline_macs,
    summary="BaselineBlock: LayerNorm2d, GELU, squeeze-excitation (NAFNet's Baseline)",
    train_maps=14.0,
    transformer=False,
)
