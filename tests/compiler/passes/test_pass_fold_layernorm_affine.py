from __future__ import annotations

from typing import Any

from torch import nn

from archc.compiler.layers import LayerNorm2d
from archc.compiler.passes.fold_layernorm_affine import fold_layernorm_affine

from helpers import Compare, rewritten


def test_affine_moves_into_the_next_conv(tiny_strong: nn.Module, max_diff: Compare) -> None:
    norms = [m for m in tiny_strong.modules() if isinstance(m, LayerNorm2d)]
    assert norms and all(m.weight is not None for m in norms)
    after = rewritten(tiny_strong, fold_layernorm_affine)
    assert max_diff(tiny_strong, after) <= 1e-4
    assert all(m.weight is None and m.bias is None for m in after.modules() if isinstance(m, LayerNorm2d))


def test_identity_affine_changes_nothing(tiny_strong: nn.Module) -> None:
    block: Any = tiny_strong.get_submodule("encoders.0.0")
    block.norm1.weight.data.fill_(1.0)
    block.norm1.bias.data.zero_()
    before = block.conv1.weight.detach().clone()
    after = rewritten(tiny_strong, fold_layernorm_affine)
    assert (after.get_submodule("encoders.0.0.conv1").weight - before).abs().max() == 0
