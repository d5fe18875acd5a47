"""SynFlow against its closed form for a linear network, float64, BatchNorm bypassed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from archc.runtime.saliency.probe import Probe
from archc.runtime.saliency.synflow import synflow


def test_synflow_matches_the_closed_form_of_a_linear_net() -> None:
    """R = 1^T (|W2| (|W1| 1 + |b1|) + |b2|); score(W1) = 1^T |W2| |W1| 1, score(W2) = 1^T |W2| (|W1| 1 + |b1|).
    The BatchNorm in between is bypassed (zero-cost-nas `bn=False`)."""
    torch.manual_seed(0)
    first, norm, last = nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 3)
    net = nn.Sequential(first, norm, last)
    with torch.no_grad():
        norm.running_mean.fill_(3.0)  # type: ignore[union-attr]
        norm.running_var.fill_(9.0)  # type: ignore[union-attr]
    before = {k: v.clone() for k, v in net.state_dict().items()}
    got = synflow(Probe.of(net, [(torch.zeros(2, 5), torch.zeros(2, 3))]))
    w1, b1, w2 = (t.detach().double().abs() for t in (first.weight, first.bias, last.weight))
    ones = torch.ones(5, dtype=torch.float64)
    assert got["0"][0] == pytest.approx(float(w2.sum(0) @ (w1 @ ones)), rel=1e-12)
    assert got["2"][0] == pytest.approx(float(w2.sum(0) @ (w1 @ ones + b1)), rel=1e-12)
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())  # signs kept


def test_synflow_runs_in_float64() -> None:
    """A product that overflows float32 stays finite in float64."""
    layers = [nn.Linear(3, 3, bias=False) for _ in range(4)]
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for m in layers:
            m.weight.fill_(2.0**40)  # exact in float32; the products are not
    got = synflow(Probe.of(net, [(torch.zeros(1, 3), torch.zeros(1, 3))]))
    assert got["0"][0] == pytest.approx(3**5 * 2.0**160, rel=1e-12)  # > 3.4e38, float32's largest
