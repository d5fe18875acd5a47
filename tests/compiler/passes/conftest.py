"""Networks for the pass tests: the tiny NAFNet with the official strong fixture weights (nonzero
beta/gamma, LayerNorm affines away from identity), and a way to compare two networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archc

from helpers import SPECS, Compare, fixture


@pytest.fixture
def tiny_strong() -> nn.Module:
    model = archc.build(SPECS / "nafnet_tiny.arch").eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"), strict=True)  # type: ignore[arg-type]
    return model


@pytest.fixture
def max_diff() -> Compare:
    """Largest absolute output difference of two networks on the fixture input and a second size."""

    def compare(a: nn.Module, b: nn.Module) -> float:
        gen = torch.Generator().manual_seed(3)
        inputs = [fixture("tiny_input.pt"), torch.rand(2, 3, 32, 48, generator=gen)]
        with torch.no_grad():
            return max(float((a(x) - b(x)).abs().max()) for x in inputs)  # type: ignore[operator]

    return compare
