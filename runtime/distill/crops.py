"""The fixed inputs of distillation: a seeded fraction of the training pairs, a fixed set of
crops on it (the teacher's features are computed on these once), and held-out crops from the
other training pairs on which each surrogate's fit is measured."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from attrs import frozen

from archc.runtime.data.crops import TrainCrops
from archc.runtime.data.pairs import PairedImages

HELDOUT_EPOCH = 1  # held-out crops are drawn as epoch 1, so they differ from the training crops


@frozen
class CropSet:
    """`count` fixed `crop x crop` blurred crops: item i comes from pair i % len(pairs), with a
    random position, flip and rotation seeded by (seed, epoch, i)."""

    pairs: PairedImages
    count: int
    crop: int
    seed: int
    epoch: int = 0

    def batches(self, batch: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(first index, `B x 3 x crop x crop` blurred crops), in index order."""
        crops = TrainCrops(self.pairs, self.crop, seed=self.seed, length=self.count)
        crops.set_epoch(self.epoch)
        for first in range(0, self.count, batch):
            items = [crops[i][0] for i in range(first, min(first + batch, self.count))]
            yield first, torch.stack(items)


def split_pairs(pairs: PairedImages, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(chosen, rest): round(fraction * n) pair indices (at least one) drawn by `seed`, both sorted."""
    n = len(pairs)
    k = min(n, max(1, round(fraction * n)))
    order = np.random.default_rng([seed, 0xD157]).permutation(n)
    return sorted(int(i) for i in order[:k]), sorted(int(i) for i in order[k:])


def view(pairs: PairedImages, indices: Sequence[int]) -> PairedImages:
    """The pairs at `indices` as a dataset of their own."""
    return PairedImages(
        [pairs.pairs[i] for i in indices], kind=pairs.kind, root=pairs.root, split=pairs.split, protocol=pairs.protocol
    )


def distill_crops(
    pairs: PairedImages, fraction: float, crops_per_image: int, crop: int, seed: int
) -> tuple[CropSet, CropSet]:
    """(training crops, held-out crops). The held-out set comes from the pairs outside the subset
    (from the subset itself, drawn afresh, when the fraction is 1) and holds max(8, N // 8) crops."""
    chosen, rest = split_pairs(pairs, fraction, seed)
    train = CropSet(view(pairs, chosen), len(chosen) * crops_per_image, crop, seed)
    held = CropSet(view(pairs, rest or chosen), max(8, train.count // 8), crop, seed, HELDOUT_EPOCH)
    return train, held
