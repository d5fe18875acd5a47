"""What every measure works on: a private copy of the network, the batches and the loss.

The copy is made once, in eval mode (the deployed function: BatchNorm uses its running
statistics, as it would on the phone) with every parameter requiring grad; the caller's model
is never touched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from attrs import frozen
from torch import nn

from archc.runtime.data.crops import TrainCrops, ValCrops
from archc.runtime.data.pairs import PairedImages
from archc.runtime.training.train import batch_at, psnr_loss

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Batch = tuple[torch.Tensor, torch.Tensor]  # (input, target), each `B x C x H x W`

SCORED = (nn.Conv2d, nn.Linear)  # the layer types zero-cost-nas scores
Scored = nn.Conv2d | nn.Linear


def _l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).abs().mean()


def _charbonnier(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((pred - target).pow(2) + 1e-6).mean()


LOSSES: dict[str, Loss] = {"psnr": psnr_loss, "l1": _l1, "charbonnier": _charbonnier}


@frozen
class Probe:
    """The private copy `model`, the `batches` and the `loss` the gradient measures use."""

    model: nn.Module
    batches: tuple[Batch, ...]
    loss: Loss
    blocks: tuple[str, ...] = ()  # module paths of the blocks (for the residual-scale measure)

    @classmethod
    def of(
        cls,
        model: nn.Module,
        batches: Sequence[Batch],
        loss: Loss = psnr_loss,
        *,
        blocks: Sequence[str] = (),
        device: str | torch.device = "cpu",
    ) -> Probe:
        twin = copy.deepcopy(model).to(device).eval()
        for p in twin.parameters():
            p.requires_grad_(True)
            p.grad = None
        moved = tuple((x.to(device), y.to(device)) for x, y in batches)
        return cls(twin, moved, loss, tuple(blocks))

    def layers(self) -> dict[str, Scored]:
        """The scored layers (Conv2d and Linear) of the copy, by module name."""
        return {n: m for n, m in self.model.named_modules() if isinstance(m, SCORED)}

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """`1 x C x H x W`: one sample of the batches (synflow's all-ones input)."""
        return (1, *self.batches[0][0].shape[1:])


def train_batches(pairs: PairedImages, count: int, batch: int, crop: int, seed: int = 0) -> tuple[Batch, ...]:
    """`count` deterministic batches of `batch` random `crop x crop` training crops (blur, sharp)."""
    crops = TrainCrops(pairs, crop, seed=seed, length=1 << 30)
    return tuple(batch_at(crops, step, batch, seed) for step in range(count))


def val_images(pairs: PairedImages, limit: int, crop: int | None) -> tuple[Batch, ...]:
    """The first `limit` validation pairs as centre crops (whole images when `crop` is None),
    each a `1 x 3 x h x w` (blur, sharp) pair."""
    view = ValCrops(pairs, crop)
    out = []
    for i in range(min(limit, len(view))):
        _, blur, sharp = view[i]
        out.append((blur.unsqueeze(0), sharp.unsqueeze(0)))
    return tuple(out)
