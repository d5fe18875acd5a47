"""restormer: Restormer's TransformerBlock (MDTA attention over channels + gated-dconv FFN).

The defaults are the official class's (`ffn_expansion_factor 2.66, bias False, LayerNorm_type
WithBias`) with one head; Restormer runs 1, 2, 4 and 8 heads at its four levels and `norm=biasfree`
for denoising.
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from archc.dsl.params import int_range, is_switch, one_of

from ..registry import register_block


def _ffn_range(_: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`{attribute.name}` must be a number such as 2.66")
    if not 0.25 <= value <= 16:
        raise ValueError(f"`{attribute.name}` must be between 0.25 and 16, not {value}")


@frozen
class RestormerParams:
    heads: int = field(default=1, validator=int_range(1, 64))
    ffn: float = field(default=2.66, validator=_ffn_range)
    bias: bool = field(default=False, validator=is_switch)
    norm: str = field(default="withbias", validator=one_of(("withbias", "biasfree")))


def hidden_width(p: RestormerParams, c: int) -> int:
    """The feed-forward's hidden width, `int(c x ffn)` as in the official class."""
    return int(c * p.ffn)


def restormer_macs(p: RestormerParams, c: int, h: int, w: int) -> int:
    # conv-only rule: the two attention matmuls (2 x c^2 / heads x h x w) are not counted
    f = hidden_width(p, c)
    per_pixel = c * 3 * c + 3 * c * 9 + c * c + c * 2 * f + 2 * f * 9 + f * c
    return h * w * per_pixel


def restormer_fits(p: RestormerParams, c: int) -> str | None:
    if c % p.heads:
        divisors = [d for d in range(1, min(c, 64) + 1) if c % d == 0]
        return f"{p.heads} heads do not divide {c} channels; heads={max(d for d in divisors if d <= p.heads)} would"
    if hidden_width(p, c) < 1:
        return f"ffn={p.ffn} leaves no hidden channel at width {c}"
    return None


register_block(
    "restormer",
    params=RestormerParams,
    build="archc.runtime.blocks.restormer:build",
    macs=restormer_macs,
    fits=restormer_fits,
    summary="Restormer TransformerBlock: MDTA channel attention, gated-dconv FFN, LayerNorm (Restormer)",
    train_maps=29.0,  # at the defaults (ffn 2.66): the feed-forward's hidden maps dominate
    transformer=True,
)
