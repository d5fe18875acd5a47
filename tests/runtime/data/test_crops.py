"""Training crops (shapes, padding, determinism, aligned augmentation) and validation crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from archc.runtime.data.crops import TrainCrops, ValCrops, infinite_batches
from archc.runtime.data.datasets import open_dataset
from archc.runtime.data.images import write_image
from archc.runtime.data.pairs import PairedImages


def _set(tmp_path: Path, sizes: tuple[tuple[int, int], ...] = ((20, 30), (24, 24))) -> PairedImages:
    """A folder set whose blurred image equals its sharp one, so aligned crops compare equal."""
    rng = np.random.default_rng(0)
    for i, (height, width) in enumerate(sizes):
        image = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
        for folder in ("input", "target"):
            (tmp_path / folder).mkdir(exist_ok=True)
            write_image(tmp_path / folder / f"{i}.png", image)
    return open_dataset(tmp_path, "folder")


def test_train_crops_shape_range_and_alignment(tmp_path: Path) -> None:
    crops = TrainCrops(_set(tmp_path), 16, seed=3, length=40)
    assert len(crops) == 40
    for i in range(40):
        blur, sharp = crops[i]
        assert blur.shape == (3, 16, 16) and blur.dtype == torch.float32
        assert float(blur.min()) >= 0.0 and float(blur.max()) <= 1.0
        torch.testing.assert_close(blur, sharp)  # flips/rotations applied to both alike


def test_train_crops_are_deterministic_per_seed_epoch_and_index(tmp_path: Path) -> None:
    data = _set(tmp_path)
    a, b = TrainCrops(data, 16, seed=1), TrainCrops(data, 16, seed=1)
    torch.testing.assert_close(a[1][0], b[1][0])
    first = a[1][0]
    a.set_epoch(1)
    seen = [a[1][0]] + [TrainCrops(data, 16, seed=s)[1][0] for s in (2, 3)]
    assert any(not torch.equal(first, other) for other in seen)


def test_train_crops_cover_all_eight_orientations(tmp_path: Path) -> None:
    data = _set(tmp_path, ((16, 16),))
    crops = TrainCrops(data, 16, seed=0, length=64)
    distinct = {crops[i][0].numpy().tobytes() for i in range(64)}
    assert len(distinct) == 8


def test_small_images_are_padded(tmp_path: Path) -> None:
    crops = TrainCrops(_set(tmp_path, ((10, 7),)), 16, augment=False)
    blur, _ = crops[0]
    assert blur.shape == (3, 16, 16)
    original = crops.pairs[0].blur
    np.testing.assert_array_equal(blur.numpy().transpose(1, 2, 0)[:10, :7], original)


def test_val_crops_center_fixed_and_full(tmp_path: Path) -> None:
    data = _set(tmp_path)
    name, blur, sharp = ValCrops(data, 16)[0]
    assert name == "0" and blur.shape == (3, 16, 16)
    expected = data[0].blur[2:18, 7:23].transpose(2, 0, 1)
    np.testing.assert_array_equal(blur.numpy(), expected)
    _, fixed, _ = ValCrops(data, 8, at=(0, 0))[0]
    np.testing.assert_array_equal(fixed.numpy(), data[0].blur[:8, :8].transpose(2, 0, 1))
    assert ValCrops(data, None)[0][1].shape == (3, 20, 30)
    with pytest.raises(ValueError):
        ValCrops(data, 8, at=(15, 0))[0]


def test_infinite_batches(tmp_path: Path) -> None:
    crops = TrainCrops(_set(tmp_path), 8, length=5)
    batches = infinite_batches(crops, 2, seed=0)
    shapes = [tuple(next(batches)[0].shape) for _ in range(5)]
    assert shapes == [(2, 3, 8, 8)] * 5
    assert crops.epoch == 2  # two full batches per 5-item epoch, the last item dropped
