"""identity: no block at all; the features pass through unchanged."""

from __future__ import annotations

from attrs import frozen

from ..registry import register_block


@frozen
class IdentityParams:
    pass


def identity_macs(p: IdentityParams, c: int, h: int, w: int) -> int:
    return 0


register_block(
    "identity",
    params=IdentityParams,
    build="archc.runtime.blocks.identity:build",
    macs=identity_macs,
    summary="no block: the features pass through unchanged",
    train_maps=0.0,
    transformer=False,
)
