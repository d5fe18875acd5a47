"""Residual scales: the per-channel `beta` / `gamma` that weight a block's branches.

NAFBlock computes y = x + beta * branch1(x), out = y + gamma * branch2(y); dsconv and mbconv have
`beta` only. Both are zero at initialisation, so a fresh block is the identity and every
gradient of its branch weights is exactly zero (facts/saliency.md §2.2).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

SCALE_NAMES = ("beta", "gamma")


def residual_scales(block: nn.Module) -> tuple[nn.Parameter, ...]:
    """The block's own residual scales (beta, then gamma, those it has); `1 x C x 1 x 1` each."""
    found = (getattr(block, name, None) for name in SCALE_NAMES)
    return tuple(p for p in found if isinstance(p, nn.Parameter))


def all_zero(scales: Iterable[torch.Tensor]) -> bool:
    """True when every given scale is exactly zero everywhere (and at least one is given)."""
    tensors = list(scales)
    return bool(tensors) and all(not bool(torch.any(t != 0)) for t in tensors)


def untrained(blocks: Iterable[nn.Module]) -> bool:
    """True when the network has residual scales and all of them are zero: an untrained NAFNet,
    on which every gradient proxy and synflow are exactly zero."""
    return all_zero(p.detach() for b in blocks for p in residual_scales(b))
