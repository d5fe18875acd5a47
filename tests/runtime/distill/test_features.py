"""The cached teacher features equal the teacher's stage inputs and outputs computed by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import archc
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill import DistillError
from archc.runtime.distill.crops import distill_crops, split_pairs
from archc.runtime.distill.features import cache_features, open_features
from archc.runtime.distill.plan import select_slots

from distill_helpers import Micro


def _by_hand(model: Any, blur: torch.Tensor) -> dict[str, torch.Tensor]:
    """Boundary maps of the micro U-Net, run stage by stage (no hooks)."""
    x = model.intro(blur)
    e1 = model.encoders[0](x)
    in2 = model.downs[0](e1)
    mid2 = model.encoders[1][0](in2)
    e2 = model.encoders[1][1](mid2)
    d = model.middle_blks(model.downs[1](e2))
    d2 = model.decoders[0](model.ups[0](d) + e2)
    in1 = model.ups[1](d2) + e1
    return {
        "enc1": torch.stack([x, e1]),
        "enc2": torch.stack([in2, mid2, e2]),
        "dec1": torch.stack([in1, model.decoders[1](in1)]),
    }


@pytest.mark.parametrize("granularity", ["slot", "block"])
def test_cache_matches_the_teacher(micro: Micro, tmp_path: Path, granularity: str) -> None:
    spec = archc.parse(micro.spec)
    model = archc.build(spec, weights=micro.teacher).eval()
    train, held = distill_crops(open_dataset(micro.data, split="train"), 0.5, 2, 16, seed=3)
    cache_features(model, spec, select_slots(spec, None), {"train": train, "heldout": held}, tmp_path, granularity)
    blur = torch.cat([b for _, b in train.batches(3)])
    with torch.no_grad():
        expected = _by_hand(model, blur)
    for slot, maps in expected.items():
        cached = open_features(tmp_path, slot).train
        keep = list(range(maps.shape[0])) if granularity == "block" else [0, maps.shape[0] - 1]
        np.testing.assert_allclose(cached, maps[keep].numpy(), rtol=1e-5, atol=1e-6)
        assert open_features(tmp_path, slot).heldout.shape[1] == held.count == 8


def test_subset_is_a_seeded_fraction(micro: Micro) -> None:
    pairs = open_dataset(micro.data, split="train")
    chosen, rest = split_pairs(pairs, 0.5, seed=0)
    assert len(chosen) == 2 and sorted(chosen + rest) == [0, 1, 2, 3]
    assert split_pairs(pairs, 0.5, seed=0) == (chosen, rest)
    assert split_pairs(pairs, 0.01, seed=0)[0] and split_pairs(pairs, 1.0, seed=0)[1] == []


def test_crop_must_need_no_padding(micro: Micro, tmp_path: Path) -> None:
    spec = archc.parse(micro.spec)
    model = archc.build(spec, weights=micro.teacher)
    train, held = distill_crops(open_dataset(micro.data, split="train"), 0.5, 1, 18, seed=0)
    with pytest.raises(DistillError, match="not a multiple of 4"):
        cache_features(model, spec, select_slots(spec, None), {"train": train, "heldout": held}, tmp_path, "slot")
