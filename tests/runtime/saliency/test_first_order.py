"""grad_norm, snip, fisher and taylor against independent computations: finite differences,
closed forms for a linear network, and the derivative of scaling a block's residual branches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import archc
from archc.runtime.saliency.first_order import first_order
from archc.runtime.saliency.probe import Probe
from archc.runtime.saliency.units import block_units

from saliency_nets import MIXED, TwoConv, batches, randomised


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).pow(2).mean()


def _fd_grad(loss, w: torch.Tensor, h: float = 1e-6) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """Central differences of the scalar `loss()` with respect to every entry of `w`."""
    g = torch.zeros_like(w)
    flat, gflat = w.data.view(-1), g.view(-1)
    for i in range(flat.numel()):
        keep = float(flat[i])
        flat[i] = keep + h
        up = float(loss())
        flat[i] = keep - h
        down = float(loss())
        flat[i] = keep
        gflat[i] = (up - down) / (2 * h)
    return g


def test_grad_norm_matches_finite_differences() -> None:
    torch.manual_seed(0)
    net = TwoConv().double()
    data = batches(2, size=5, dtype=torch.float64)
    got = first_order(Probe.of(net, data, _mse), ["grad_norm"])["grad_norm"]
    for name in ("conv1", "conv2"):
        w = getattr(net, name).weight
        norms = []
        for x, y in data:
            with torch.no_grad():
                norms.append(float(_fd_grad(lambda x=x, y=y: _mse(net(x), y), w).norm()))
        np.testing.assert_allclose(got[name], norms, rtol=1e-6)


def _linear_net() -> tuple[nn.Sequential, nn.Linear, nn.Linear]:
    torch.manual_seed(1)
    first, last = nn.Linear(5, 4, bias=False).double(), nn.Linear(4, 3, bias=False).double()
    return nn.Sequential(first, last), first, last


def test_snip_and_fisher_match_closed_forms_for_a_linear_net() -> None:
    net, first, last = _linear_net()
    w1, w2 = first.weight.detach(), last.weight.detach()
    gen = torch.Generator().manual_seed(2)
    data = [
        (torch.randn(6, 5, generator=gen, dtype=torch.float64), torch.randn(6, 3, generator=gen, dtype=torch.float64))
        for _ in range(3)
    ]
    got = first_order(Probe.of(net, data, _mse), ["snip", "fisher"])
    for k, (x, t) in enumerate(data):
        hidden = x @ w1.T  # N x 4
        y = hidden @ w2.T  # N x 3
        dy = 2 * (y - t) / y.numel()  # dL/dy for the mean squared error
        g2 = dy.T @ hidden
        g1 = (dy @ w2).T @ x
        assert got["snip"]["0"][k] == pytest.approx(float((w1 * g1).abs().sum()), rel=1e-10)
        assert got["snip"]["1"][k] == pytest.approx(float((w2 * g2).abs().sum()), rel=1e-10)
        # Fisher of a Linear layer: s_nk = a_nk * delta_nk (no spatial positions)
        assert got["fisher"]["1"][k] == pytest.approx(float(0.5 * (y * dy).pow(2).mean(0).sum()), rel=1e-10)
        assert got["fisher"]["0"][k] == pytest.approx(float(0.5 * (hidden * (dy @ w2)).pow(2).mean(0).sum()), rel=1e-10)


def test_fisher_equals_the_derivative_of_per_sample_channel_masks() -> None:
    """s_nk = dL/dm_nk for the output of the layer scaled by (1 + m_nk), m = 0: finite differences."""
    torch.manual_seed(3)
    net = TwoConv().double()
    ((x, t),) = batches(1, size=5, batch=3, dtype=torch.float64)
    got = first_order(Probe.of(net, [(x, t)], _mse), ["fisher"])["fisher"]

    def loss(m1: torch.Tensor, m2: torch.Tensor) -> torch.Tensor:
        a1 = net.conv1(x) * (1 + m1[:, :, None, None])
        return _mse(net.conv2(torch.tanh(a1)) * (1 + m2[:, :, None, None]), t)

    m1, m2 = torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64)
    with torch.no_grad():
        s1 = _fd_grad(lambda: loss(m1, m2), m1)
        s2 = _fd_grad(lambda: loss(m1, m2), m2)
    assert got["conv1"][0] == pytest.approx(float(0.5 * s1.pow(2).mean(0).sum()), rel=1e-6)
    assert got["conv2"][0] == pytest.approx(float(0.5 * s2.pow(2).mean(0).sum()), rel=1e-6)


def _scaled_loss(model: nn.Module, block: nn.Module, factor: float, x: torch.Tensor, y: torch.Tensor) -> float:
    """PSNR loss with the block's residual scales multiplied by `factor` (then restored)."""
    from archc.runtime.training.train import psnr_loss

    scales = [getattr(block, n) for n in ("beta", "gamma") if hasattr(block, n)]
    with torch.no_grad():
        for p in scales:
            p.mul_(factor)
        value = float(psnr_loss(model(x), y))
        for p in scales:
            p.div_(factor)
    return value


def test_taylor_is_the_derivative_of_scaling_the_residual_branches() -> None:
    """t = sum beta dL/dbeta + gamma dL/dgamma = dL(scales * (1 + e))/de at e = 0 (beta alone for
    dsconv); no residual scale (identity) gives NaN."""
    spec = archc.parse(MIXED)
    model = randomised(spec, dtype=torch.float64)
    data = batches(2, dtype=torch.float64)
    units = block_units(spec, model)
    paths = [p for u in units for p in u.modules]
    got = first_order(Probe.of(model, data, blocks=paths), ["taylor"])["taylor"]
    h = 1e-6
    for path in paths:
        block = model.get_submodule(path)
        if not hasattr(block, "beta"):
            assert np.isnan(got[path]).all()
            continue
        fd = [
            (_scaled_loss(model, block, 1 + h, x, y) - _scaled_loss(model, block, 1 - h, x, y)) / (2 * h)
            for x, y in data
        ]
        np.testing.assert_allclose(got[path], fd, rtol=1e-5, atol=1e-9)
