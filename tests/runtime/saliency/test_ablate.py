"""Ablation ground truth: removing a unit equals zeroing its residual scales; Spearman."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

import archc
from archc.runtime.evaluation.metrics import psnr
from archc.runtime.saliency.ablate import ablate, spearman
from archc.runtime.saliency.residual import residual_scales
from archc.runtime.saliency.units import block_units, slot_units

from saliency_nets import SEARCHED, batches, randomised


def _images(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    ((blur, sharp),) = batches(1, size=16, batch=n, seed=5)
    return [(blur[i : i + 1], sharp[i : i + 1]) for i in range(n)]


def _psnr_with_zero_scales(model: torch.nn.Module, paths: tuple[str, ...], images) -> float:  # type: ignore[no-untyped-def]
    twin = copy.deepcopy(model).eval()
    with torch.no_grad():
        for path in paths:
            for scale in residual_scales(twin.get_submodule(path)):
                scale.zero_()
        return float(np.mean([psnr(twin(b)[0].clamp(0, 1), s[0]) for b, s in images]))


def test_removing_a_unit_equals_zeroing_its_residual_scales() -> None:
    spec = archc.parse(SEARCHED)
    model = randomised(spec)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = _images(3)
    units = (*block_units(spec, model), *slot_units(spec, model))
    result = ablate(model, units, images, batch=2)
    base = _psnr_with_zero_scales(model, (), images)
    assert result.base_psnr == pytest.approx(base, abs=1e-9)
    for u in units:
        assert result.drops[u.name] == pytest.approx(base - _psnr_with_zero_scales(model, u.modules, images), abs=1e-6)
    assert result.drops["e2[0:1]"] == result.drops["e2[0]"]  # the same blocks, measured once
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_spearman_uses_finite_pairs_and_is_nan_when_undefined() -> None:
    xs = [1.0, 2.0, float("nan"), 4.0, 3.0, float("inf")]
    ys = [0.1, 0.3, 0.2, 0.5, 0.2, 0.9]
    got = spearman(xs, ys)
    expected = spearmanr([1.0, 2.0, 4.0, 3.0], [0.1, 0.3, 0.5, 0.2]).statistic
    assert got.n == 4 and got.rho == pytest.approx(expected)
    assert math.isnan(spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]).rho)
    assert math.isnan(spearman([1.0, 2.0], [1.0, 2.0]).rho)
