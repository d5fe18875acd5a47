"""identity: the features pass through unchanged (the block is removed)."""

from __future__ import annotations

from torch import nn

from archc.compiler.blocks.schemas.identity import IdentityParams

__all__ = ["IdentityParams", "build"]


def build(p: IdentityParams, c: int) -> nn.Module:
    return nn.Identity()
