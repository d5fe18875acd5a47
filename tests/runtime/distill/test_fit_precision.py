"""Surrogates on an accelerator and in mixed precision: where they run is not part of a run's key,
their precision is."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import numpy as np
import pytest
import torch

import archc
from archc.errors import DistillError
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill.config import DistillConfig
from archc.runtime.distill.crops import distill_crops
from archc.runtime.distill.features import cache_features, open_features
from archc.runtime.distill.fit import fit
from archc.runtime.distill.plan import Job, select_slots

from distill_helpers import FAST, Micro, run_cli

NAF = {"dw_expand": 2, "ffn_expand": 2, "sca": True}


def test_amp_is_part_of_the_run_key_and_the_accelerator_is_not() -> None:
    plain = DistillConfig()
    assert "amp" not in plain.run_key() and "accelerator" not in plain.run_key()  # older runs still resume
    assert DistillConfig(amp="bf16", accelerator="cuda").run_key() == {**plain.run_key(), "amp": "bf16"}
    assert DistillConfig(accelerator="cuda").run_key() == plain.run_key()
    with pytest.raises(DistillError):
        DistillConfig(amp="fp8").check()


def _features(micro: Micro, root: Path, device: torch.device | None) -> Path:
    spec = archc.parse(micro.spec)
    model = archc.build(spec, weights=micro.teacher)
    train, held = distill_crops(open_dataset(micro.data, split="train"), 1.0, 2, 16, seed=0)
    cache_features(
        model, spec, select_slots(spec, ["enc1"]), {"train": train, "heldout": held}, root, "slot", device=device
    )
    assert next(model.parameters()).device.type == "cpu"
    return root


@pytest.fixture(scope="module")
def enc1(micro: Micro, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _features(micro, tmp_path_factory.mktemp("features"), None)


def test_features_on_a_named_device_equal_the_default(micro: Micro, enc1: Path, tmp_path: Path) -> None:
    again = open_features(_features(micro, tmp_path, torch.device("cpu")), "enc1")
    assert np.array_equal(again.train, open_features(enc1, "enc1").train)


def test_a_bf16_surrogate_trains_on_the_cpu_and_comes_back_float32(enc1: Path) -> None:
    feats = open_features(enc1, "enc1")
    job = Job("enc1", "enc1", 0, 0, 1, 4, "naf", "naf", NAF)
    cfg = attrs.evolve(FAST, iters=20, lr=1e-2)
    plain, plain_stats = fit(job, feats.train, feats.heldout, (0, 1), cfg, seed=5)
    mixed, stats = fit(
        job, feats.train, feats.heldout, (0, 1), attrs.evolve(cfg, amp="bf16", accelerator="cpu"), seed=5
    )
    assert stats.steps == 20 and stats.train_loss is not None and np.isfinite(stats.train_loss)
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in mixed.parameters())
    assert stats.fit_rel_change < 1.0  # it learned something
    assert stats.train_loss != plain_stats.train_loss  # the precision changes the surrogate


def test_distill_cli_records_accelerator_and_amp(micro: Micro, tmp_path: Path) -> None:
    flags = ["--iters", "2", "--batch", "2", "--crop", "16", "--crops-per-image", "1", "--fraction", "0.5"]
    result = run_cli(
        "distill",
        micro.spec,
        "--weights",
        micro.teacher,
        "--data",
        micro.data,
        "--out",
        tmp_path,
        "--slots",
        "enc1",
        "--val-images",
        "1",
        "--accelerator",
        "cpu",
        "--amp",
        "bf16",
        *flags,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "distill.json").read_text())
    assert (report["accelerator"], report["amp"]) == ("cpu", "bf16") and report["accelerator_name"]
    assert json.loads((tmp_path / "distill.config.json").read_text())["config"]["amp"] == "bf16"
    refused = run_cli(
        "distill",
        micro.spec,
        "--weights",
        micro.teacher,
        "--data",
        micro.data,
        "--out",
        tmp_path / "b",
        "--accelerator",
        "cpu",
        "--amp",
        "fp16",
        *flags,
    )
    assert refused.exit_code == 1 and "E1506" in refused.output and not (tmp_path / "b").exists()
