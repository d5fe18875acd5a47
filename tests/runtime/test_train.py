"""Training: the PSNR loss, and a killed run resumes to exactly the weights of an uninterrupted one."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import archc
from archc.runtime.data.datasets import open_dataset
from archc.runtime.train import TrainConfig, psnr_loss, train

from helpers import SPECS


def _gopro(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("test", 1)):
        for kind in ("blur", "sharp"):
            (root / split / "SEQ" / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            sharp = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
            blur = ((sharp.astype(float) + np.roll(sharp, 3, axis=1)) / 2).astype(np.uint8)
            Image.fromarray(sharp).save(root / split / "SEQ" / "sharp" / f"{i:06d}.png")
            Image.fromarray(blur).save(root / split / "SEQ" / "blur" / f"{i:06d}.png")
    return root


def test_psnr_loss_is_minus_mean_psnr() -> None:
    pred, target = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.1)
    target[1] = 0.2
    expected = -np.mean([10 * math.log10(1 / (0.1**2 + 1e-8)), 10 * math.log10(1 / (0.2**2 + 1e-8))])
    assert psnr_loss(pred, target).item() == pytest.approx(expected, rel=1e-5)


class _Kill(Exception):
    pass


def test_resume_after_kill_matches_uninterrupted_run(tmp_path: Path) -> None:
    pairs = open_dataset(_gopro(tmp_path / "data"), split="train")
    cfg = TrainConfig(iters=8, batch=2, crop=32, checkpoint_seconds=0.0)

    torch.manual_seed(0)
    full = archc.build(SPECS / "nafnet_tiny.arch")
    train(full, pairs, tmp_path / "full", cfg)

    def kill_at_5(record: dict[str, float]) -> None:
        if record["step"] == 5:
            raise _Kill

    torch.manual_seed(0)
    killed = archc.build(SPECS / "nafnet_tiny.arch")
    with pytest.raises(_Kill):
        train(killed, pairs, tmp_path / "resumed", cfg, on_step=kill_at_5)
    resumed = archc.build(SPECS / "nafnet_tiny.arch")
    result = train(resumed, pairs, tmp_path / "resumed", cfg, resume=True)
    assert result.steps == 8
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    reloaded = archc.build(SPECS / "nafnet_tiny.arch", weights=result.weights)
    assert all(torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), resumed.state_dict().values(),
                                                 strict=True))
