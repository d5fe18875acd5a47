"""identity: the features pass through unchanged (the block is removed)."""

from __future__ import annotations

from attrs import frozen
from torch import nn

from .registry import register_block


@frozen
class IdentityParams:
    pass


register_block("identity", params=IdentityParams, build=lambda p, c: nn.Identity(),
               macs=lambda p, c, h, w: 0, summary="no block: the features pass through unchanged")
