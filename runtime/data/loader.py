"""Training batches as a pure function of (seed, step), made in this process or in worker processes.

Batch `step` is the same whichever process makes it, so a run with data-loading workers sees the
batches of a run without them, and a resumed run the batches of an uninterrupted one. On a GPU the
batches are made by workers into pinned (page-locked) memory, which the copy to the GPU can
overlap with compute; on the CPU they are made in the training process by default, since workers
would take cores from the training step itself.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .crops import TrainCrops

Batch = tuple[torch.Tensor, torch.Tensor]
MAX_DEFAULT_WORKERS = 4


def batch_at(crops: TrainCrops, step: int, batch: int, seed: int) -> Batch:
    """The batch of `step`: a pure function of (seed, step). Returns two `B x 3 x crop x crop` tensors."""
    crops.set_epoch(step)
    idx = np.random.default_rng([seed, step, 7]).integers(0, 1 << 30, size=batch)
    items = [crops[int(i)] for i in idx]
    return torch.stack([b for b, _ in items]), torch.stack([s for _, s in items])


class StepBatches(Dataset[Batch]):
    """Item i is the batch of step `first + i` (an endless run of steps, as far as a loader cares)."""

    def __init__(self, crops: TrainCrops, first: int, batch: int, seed: int) -> None:
        self.crops, self.first, self.batch, self.seed = crops, first, batch, seed

    def __len__(self) -> int:
        return (1 << 31) - self.first

    def __getitem__(self, index: int) -> Batch:
        return batch_at(self.crops, self.first + index, self.batch, self.seed)


def default_workers(device: torch.device) -> int:
    """Data-loading processes for `device`: none on the CPU, up to 4 (one core kept back) on a GPU."""
    if device.type == "cpu":
        return 0
    return max(0, min(MAX_DEFAULT_WORKERS, (os.cpu_count() or 1) - 1))


def step_batches(
    crops: TrainCrops, first: int, batch: int, seed: int, device: torch.device, workers: int | None = None
) -> Generator[Batch, None, None]:
    """The batches of steps `first`, `first + 1`, ... on `device` (`workers`: None picks `default_workers`)."""
    n = default_workers(device) if workers is None else workers
    source: Iterator[Batch]
    if n == 0:
        source = (batch_at(crops, step, batch, seed) for step in range(first, 1 << 31))
    else:
        loader = DataLoader(
            StepBatches(crops, first, batch, seed),
            batch_size=None,
            num_workers=n,
            pin_memory=device.type == "cuda",
            prefetch_factor=2,
        )
        source = iter(loader)
    for blur, sharp in source:
        yield blur.to(device, non_blocking=True), sharp.to(device, non_blocking=True)
