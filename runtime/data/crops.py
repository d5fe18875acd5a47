"""Torch views of a `PairedImages` set: random training crops and fixed validation crops.

Images come from the set's in-memory cache (decoded once), so a training step only slices,
flips and converts arrays. Randomness is drawn from a generator seeded by (seed, epoch, index),
so a crop does not depend on worker processes or on the order in which items are asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from .images import to_float
from .pairs import PairedImages

Placement = Literal["center"] | tuple[int, int]


class TrainCrops(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Random `crop x crop` crops of (blur, sharp) with random flips and 90-degree rotations.

    Item i uses pair i % len(pairs); `length` (default: the number of pairs) sets the epoch
    size. Images smaller than `crop` are reflect-padded at the bottom and right first.
    Returns (blur, sharp), float32 tensors `3 x crop x crop` in [0, 1].
    """

    def __init__(
        self,
        pairs: PairedImages,
        crop: int = 256,
        *,
        seed: int = 0,
        length: int | None = None,
        augment: bool = True,
        preload: bool = True,
    ) -> None:
        if crop < 1:
            raise ValueError(f"crop must be positive, got {crop}")
        self.pairs = pairs
        self.crop = crop
        self.seed = seed
        self.length = length if length is not None else len(pairs)
        self.augment = augment
        self.epoch = 0
        if preload:
            pairs.preload()

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        """Draw fresh crops: item i of epoch e is seeded by (seed, e, i)."""
        self.epoch = epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        blur, sharp = self.pairs.raw(index % len(self.pairs))
        blur, sharp = _pad_to(blur, self.crop), _pad_to(sharp, self.crop)
        top = int(rng.integers(0, blur.shape[0] - self.crop + 1))
        left = int(rng.integers(0, blur.shape[1] - self.crop + 1))
        window = (slice(top, top + self.crop), slice(left, left + self.crop))
        blur, sharp = blur[window], sharp[window]
        if self.augment:
            flips = rng.integers(0, 2, size=3).astype(bool)
            blur, sharp = _dihedral(blur, flips), _dihedral(sharp, flips)
        return to_tensor(blur), to_tensor(sharp)


class ValCrops(Dataset[tuple[str, torch.Tensor, torch.Tensor]]):
    """A deterministic validation view: the centre `crop x crop` crop of every pair (as
    Restormer validates), a crop at a fixed (top, left), or the whole image when `crop` is None.

    Returns (name, blur, sharp) with float32 tensors `3 x h x w` in [0, 1]. An image smaller
    than the crop is reflect-padded at the bottom and right.
    """

    def __init__(self, pairs: PairedImages, crop: int | None = 256, at: Placement = "center") -> None:
        self.pairs = pairs
        self.crop = crop
        self.at = at

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[str, torch.Tensor, torch.Tensor]:
        blur, sharp = self.pairs.raw(index)
        if self.crop is not None:
            blur, sharp = _pad_to(blur, self.crop), _pad_to(sharp, self.crop)
            window = self._window(blur.shape[0], blur.shape[1], self.crop)
            blur, sharp = blur[window], sharp[window]
        return self.pairs.pairs[index].name, to_tensor(blur), to_tensor(sharp)

    def _window(self, height: int, width: int, crop: int) -> tuple[slice, slice]:
        if self.at == "center":
            top, left = (height - crop) // 2, (width - crop) // 2
        else:
            top, left = self.at
        if not (0 <= top <= height - crop and 0 <= left <= width - crop):
            raise ValueError(f"a {crop}px crop at {(top, left)} leaves a {height}x{width} image")
        return slice(top, top + crop), slice(left, left + crop)


def infinite_batches(
    crops: TrainCrops,
    batch_size: int,
    *,
    seed: int = 0,
    drop_last: bool = True,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled batches in the calling process: (blur, sharp), each `B x 3 x c x c`.

    Each epoch reshuffles (seeded by (seed, epoch)) and draws fresh crops via `set_epoch`.
    """
    epoch = 0
    while True:
        crops.set_epoch(epoch)
        order = np.random.default_rng([seed, epoch]).permutation(len(crops))
        stop = len(order) - len(order) % batch_size if drop_last else len(order)
        if stop == 0:
            raise ValueError(f"{len(crops)} crops per epoch cannot fill a batch of {batch_size}")
        for start in range(0, stop, batch_size):
            items = [crops[int(i)] for i in order[start : start + batch_size]]
            yield torch.stack([b for b, _ in items]), torch.stack([s for _, s in items])
        epoch += 1


def to_tensor(raw: np.ndarray) -> torch.Tensor:
    """`H x W x 3` uint8/uint16 -> float32 tensor `3 x H x W` in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(to_float(raw).transpose(2, 0, 1)))


def _pad_to(image: np.ndarray, size: int) -> np.ndarray:
    pad_h, pad_w = max(0, size - image.shape[0]), max(0, size - image.shape[1])
    if pad_h == 0 and pad_w == 0:
        return image
    return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect")


def _dihedral(image: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """One of the 8 flips/90-degree rotations of a square `c x c x 3` crop: horizontal flip,
    vertical flip, then transpose, each when its flag is set (transpose + flip = rotation)."""
    if flips[0]:
        image = image[:, ::-1]
    if flips[1]:
        image = image[::-1]
    if flips[2]:
        image = image.transpose(1, 0, 2)
    return image
