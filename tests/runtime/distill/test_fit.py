"""Training one surrogate: the loss, convergence when the candidate can represent the teacher, inheritance."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import torch

import archc
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill.crops import distill_crops
from archc.runtime.distill.features import cache_features, open_features
from archc.runtime.distill.fit import feature_loss, fit, inherit
from archc.runtime.distill.plan import Job, select_slots

from distill_helpers import FAST, Micro

NAF = {"dw_expand": 2, "ffn_expand": 2, "sca": True}


def test_feature_loss_is_error_energy_over_target_energy() -> None:
    target = torch.tensor([[1.0, 2.0], [0.0, 2.0]]).view(1, 1, 2, 2)
    pred = target + torch.tensor([[0.5, 0.0], [0.0, -1.0]]).view(1, 1, 2, 2)
    assert feature_loss(pred, target).item() == pytest.approx((0.25 + 1.0) / (1 + 4 + 4))


@pytest.fixture(scope="module")
def enc1_features(micro: Micro, tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = archc.parse(micro.spec)
    model = archc.build(spec, weights=micro.teacher)
    train, held = distill_crops(open_dataset(micro.data, split="train"), 1.0, 2, 16, seed=0)
    root = tmp_path_factory.mktemp("features")
    cache_features(model, spec, select_slots(spec, ["enc1"]), {"train": train, "heldout": held}, root, "slot")
    return root


def test_the_original_kind_from_a_fresh_init_fits_the_teacher(enc1_features: Path) -> None:
    feats = open_features(enc1_features, "enc1")
    job = Job("enc1", "enc1", 0, 0, 1, 4, "naf", "naf", NAF)
    cfg = attrs.evolve(FAST, iters=300, lr=1e-2)
    _, untrained = fit(job, feats.train, feats.heldout, (0, 1), attrs.evolve(cfg, iters=1, lr=1e-9), seed=5)
    module, stats = fit(job, feats.train, feats.heldout, (0, 1), cfg, seed=5)
    assert untrained.fit_rel_change == pytest.approx(1.0, abs=1e-3)  # a fresh NAF block is the identity
    assert stats.fit_rel_change < 0.01 and stats.fit_nmse < 0.01
    assert stats.steps == 300 and stats.inherited == 0


def test_identity_is_not_trained_and_misses_the_whole_change(enc1_features: Path) -> None:
    feats = open_features(enc1_features, "enc1")
    job = Job("enc1", "enc1", 0, 0, 1, 4, "identity", "identity", {})
    module, stats = fit(job, feats.train, feats.heldout, (0, 1), FAST, seed=0)
    assert (stats.steps, stats.train_loss, stats.fit_rel_change) == (0, None, pytest.approx(1.0))
    assert not list(module.state_dict())


def test_inherit_copies_tensors_whose_name_and_shape_match() -> None:
    from archc.runtime.blocks.naf import NAFBlock

    teacher = {f"0.{k}": v for k, v in NAFBlock(4).state_dict().items()}
    for v in teacher.values():
        v.fill_(0.25)
    student = torch.nn.Sequential(NAFBlock(4, sca=False))
    copied = inherit(student, teacher)
    assert copied == len(student.state_dict()) == len(teacher) - 2  # all but the SCA conv's weight and bias
    assert all(bool((v == 0.25).all()) for v in student.state_dict().values())
