"""Training: the PSNR loss, the lr schedule, the weight average, and a killed run resumes to exactly
the weights of an uninterrupted one."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import archc
from archc.errors import DataError
from archc.runtime.data.datasets import open_dataset
from archc.runtime.training.train import TrainConfig, WeightAverage, cosine_lr, psnr_loss, train

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


def test_schedule_warms_up_linearly_then_follows_a_cosine() -> None:
    cfg = TrainConfig(iters=100, lr=2e-3, lr_min=1e-7, warmup=0.2)
    assert cosine_lr(cfg, 0.1) == pytest.approx(1e-3)
    assert cosine_lr(cfg, 0.2) == pytest.approx(2e-3)
    assert cosine_lr(cfg, 0.6) == pytest.approx(1e-7 + 0.5 * (2e-3 - 1e-7))
    assert cosine_lr(cfg, 1.0) == pytest.approx(1e-7)
    assert 0 < cosine_lr(cfg, 0.0) < 1e-5
    plain = TrainConfig(iters=100, lr=1e-3)
    assert cosine_lr(plain, 0.0) == pytest.approx(1e-3) and cosine_lr(plain, 0.5) == pytest.approx(0.5 * (1e-3 + 1e-7))


def test_weight_average_follows_its_recurrence() -> None:
    model = torch.nn.Linear(3, 2)
    average = WeightAverage(model, decay=0.9)
    expected = {k: v.clone().double() for k, v in model.state_dict().items()}
    for step in range(30):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        average.update(model, step)
        d = min(0.9, (1 + step) / (10 + step))
        expected = {k: d * expected[k] + (1 - d) * v.double() for k, v in model.state_dict().items()}
    for k, v in average.state.items():
        torch.testing.assert_close(v.double(), expected[k], rtol=1e-5, atol=1e-6)
    average.copy_to(model)
    assert torch.equal(model.weight, average.state["weight"])


class _Kill(Exception):
    pass


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_resume_after_kill_matches_uninterrupted_run(tmp_path: Path, ema: float) -> None:
    pairs = open_dataset(_gopro(tmp_path / "data"), split="train")
    cfg = TrainConfig(iters=8, batch=2, crop=32, checkpoint_seconds=0.0, warmup=0.25, ema=ema)

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


def test_resuming_without_a_saved_average_is_a_clear_error(tmp_path: Path) -> None:
    pairs = open_dataset(_gopro(tmp_path / "data"), split="train")
    plain = TrainConfig(iters=2, batch=2, crop=32)
    train(archc.build(SPECS / "nafnet_tiny.arch"), pairs, tmp_path / "run", plain)
    with pytest.raises(DataError, match="holds no weight average"):
        train(archc.build(SPECS / "nafnet_tiny.arch"), pairs, tmp_path / "run",
              TrainConfig(iters=4, batch=2, crop=32, ema=0.9), resume=True)
