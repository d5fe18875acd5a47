"""SynFlow (zero-cost-nas `synflow`): data-free path flow through the network's magnitudes.

On a float64 copy whose every floating state_dict entry (weights, biases, norm affines, running
statistics) is replaced by its absolute value and whose BatchNorms pass their input through,
R = sum of the output for one all-ones input `1 x C x H x W`; each scored weight scores
|W * dR/dW|, summed per layer. The outer absolute value is zero-cost-nas's: it is redundant for
networks of positive products, but LayerNorm subtracts a mean, so in NAFNet dR/dW can be
negative. One pass; no data, labels or batches. Products of positive terms grow fast across
many blocks, so values can overflow even in float64: a non-finite result is reported as such,
never replaced.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .first_order import PerBatch
from .probe import SCORED, Probe


class _PassThrough(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _linearised(model: nn.Module) -> nn.Module:
    """A float64 copy with |state| and BatchNorm replaced by identity (zero-cost-nas `bn=False`)."""
    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    for name, m in list(net.named_modules()):
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            parent, _, leaf = name.rpartition(".")
            setattr(net.get_submodule(parent) if parent else net, leaf, _PassThrough())
    return net


def synflow(probe: Probe, shape: tuple[int, ...] | None = None) -> PerBatch:
    """Layer name -> one SynFlow value (an array of length 1). `shape` of the all-ones input
    defaults to one sample of the probe's batches."""
    net = _linearised(probe.model)
    device = next(net.parameters()).device
    for p in net.parameters():
        p.requires_grad_(True)
    x = torch.ones(shape or probe.sample_shape, dtype=torch.float64, device=device)
    net(x).sum().backward()
    out = {}
    for n, m in net.named_modules():
        if isinstance(m, SCORED):
            g = m.weight.grad
            out[n] = np.array([0.0 if g is None else float((m.weight.detach() * g).abs().sum())])
    return out
