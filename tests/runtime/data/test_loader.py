"""Batches are a pure function of (seed, step), whether worker processes make them or not."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from archc.runtime.data.crops import TrainCrops
from archc.runtime.data.datasets import open_dataset
from archc.runtime.data.images import write_image
from archc.runtime.data.loader import batch_at, default_workers, step_batches
from archc.runtime.data.pairs import PairedImages


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> TrainCrops:
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    for folder in ("input", "target"):
        (root / folder).mkdir()
        for i in range(3):
            write_image(root / folder / f"{i}.png", rng.integers(0, 256, (40, 48, 3)).astype(np.uint8))
    pairs: PairedImages = open_dataset(root, "folder")
    return TrainCrops(pairs, 16, seed=3, length=1 << 30)


def _take(crops: TrainCrops, workers: int, first: int, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    batches = step_batches(crops, first, 2, 3, torch.device("cpu"), workers)
    with contextlib.closing(batches):
        return [next(batches) for _ in range(n)]


def test_workers_give_the_same_batches(crops: TrainCrops) -> None:
    local, workers = _take(crops, 0, 5, 3), _take(crops, 1, 5, 3)
    for (a, b), (c, d) in zip(local, workers, strict=True):
        assert torch.equal(a, c) and torch.equal(b, d)
    expected = batch_at(crops, 6, 2, 3)
    assert torch.equal(local[1][0], expected[0])


def test_no_workers_on_the_cpu() -> None:
    assert default_workers(torch.device("cpu")) == 0
