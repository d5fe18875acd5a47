"""channels_last and onednn_pointwise: the torch-only passes."""

from __future__ import annotations

import torch
from torch import nn

from archc.compiler.passes.base import is_pointwise
from archc.compiler.passes.channels_last import channels_last
from archc.compiler.passes.onednn_pointwise import OneDnnPointwise, onednn_pointwise

from helpers import Compare, rewritten


def test_channels_last_same_outputs_nhwc_weights(tiny_strong: nn.Module, max_diff: Compare) -> None:
    after = rewritten(tiny_strong, channels_last)
    assert max_diff(tiny_strong, after) <= 1e-4
    weights = [p for p in after.parameters() if p.dim() == 4 and p.shape[1] > 1 and p.shape[2] * p.shape[3] > 1]
    assert weights and all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)


def test_onednn_pointwise_replaces_every_1x1_conv(tiny_strong: nn.Module, max_diff: Compare) -> None:
    n = sum(is_pointwise(m) for m in tiny_strong.modules())
    after = rewritten(tiny_strong, onednn_pointwise)
    assert max_diff(tiny_strong, after) <= 1e-4
    assert not any(is_pointwise(m) for m in after.modules())
    assert sum(isinstance(m, OneDnnPointwise) for m in after.modules()) == n
    assert max_diff(tiny_strong, rewritten(after, channels_last)) <= 1e-4
