"""GraSP's Hessian-vector product against torch.autograd.functional.hvp."""

from __future__ import annotations

import numpy as np
import torch
from torch.func import functional_call

from archc.runtime.saliency.grasp import grasp
from archc.runtime.saliency.probe import Probe

from saliency_nets import TwoConv, batches


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).pow(2).mean()


def test_grasp_is_minus_weight_times_hessian_gradient_product() -> None:
    torch.manual_seed(0)
    net = TwoConv().double()
    data = batches(2, size=6, dtype=torch.float64)
    got = grasp(Probe.of(net, data, _mse))
    names = ("conv1.weight", "conv2.weight")
    params = {n: p.detach() for n, p in net.named_parameters()}
    for k, (x, y) in enumerate(data):

        def loss(w1: torch.Tensor, w2: torch.Tensor, x: torch.Tensor = x, y: torch.Tensor = y) -> torch.Tensor:
            return _mse(functional_call(net, params | dict(zip(names, (w1, w2), strict=True)), (x,)), y)

        weights = tuple(params[n].clone().requires_grad_(True) for n in names)
        g = torch.autograd.grad(loss(*weights), weights)
        _, hg = torch.autograd.functional.hvp(loss, tuple(params[n] for n in names), g)
        for layer, w, h in zip(("conv1", "conv2"), (params[n] for n in names), hg, strict=True):
            np.testing.assert_allclose(got[layer][k], float(-(w * h).sum()), rtol=1e-9, atol=1e-14)
