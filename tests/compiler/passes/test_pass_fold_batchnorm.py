from __future__ import annotations

import torch
from torch import nn

import archc
from archc.compiler.passes.fold_batchnorm import fold_batchnorm

from helpers import SPECS, Compare, rewritten


def test_batchnorm_folds_into_the_next_conv(max_diff: Compare) -> None:
    model = archc.build(SPECS / "nafnet_tiny.arch", "mid=naf_bn;enc3=naf_bn").eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):  # eval statistics away from the identity
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen))  # type: ignore[union-attr]
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)  # type: ignore[union-attr]
                m.weight.copy_(torch.randn(m.num_features, generator=gen))
                m.bias.copy_(torch.randn(m.num_features, generator=gen))
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    after = rewritten(model, fold_batchnorm)
    assert max_diff(model, after) <= 1e-4
    assert not any(isinstance(m, nn.BatchNorm2d) for m in after.modules())
