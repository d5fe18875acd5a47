"""Fine-tune a picked network before it is scored: NAFNet's recipe as `archc finetune` runs it
(AdamW, cosine from lr 1e-4, batches of 8 random 64 px crops with flips and rotations, PSNR loss),
for a set number of steps, against one of two targets:

- `sharp`: the sharp crops (`archc finetune`'s loss);
- `teacher`: the teacher's restoration of the same blurred crops (distillation: the network learns
  to reproduce what it replaces, not to chase the sharp image the teacher itself misses).

`archc run` and `archc verify` fine-tune against the teacher unless told otherwise: on the demo's
knee (nafnet_small, 24 whole test frames) it left 0.292 dB after 300 steps where the sharp image
left 0.338 dB, and 0.221 dB after 600 steps where 1,000 steps against the sharp image left
0.244 dB, for about 45 % more time per step (the teacher runs too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from attrs import frozen
from torch import nn

from archc.runtime.data.datasets import open_dataset
from archc.runtime.training.train import TrainConfig, TrainResult, train

LOSSES = {
    "sharp": "PSNR loss against the sharp image (archc finetune's recipe)",
    "teacher": "PSNR loss against the teacher's restoration (distillation)",
}


@frozen
class FinetuneSettings:
    """How the pick is fine-tuned (the defaults are `archc finetune`'s, at 300 steps)."""

    steps: int = 300
    loss: str = "sharp"  # a key of LOSSES
    batch: int = 8
    crop: int = 64
    lr: float = 1e-4
    seed: int = 0
    accelerator: str = "cpu"
    quantization_aware: bool = True  # a pick with quantized slots rounds them while it trains (`tuned.py`)

    def to_json(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "loss": self.loss,
            "loss_text": LOSSES[self.loss],
            "batch": self.batch,
            "crop": self.crop,
            "lr": self.lr,
            "seed": self.seed,
            "quantization_aware": self.quantization_aware,
        }


def teacher_target(teacher: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The distillation target: `teacher`'s restoration of the blurred batch (no gradient)."""
    teacher.eval()

    def target(blur: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
        teacher.to(blur.device)
        with torch.no_grad():
            return teacher(blur).float()

    return target


def finetune(
    model: nn.Module,
    data: str | Path,
    out: Path,
    settings: FinetuneSettings,
    teacher: nn.Module | None = None,
    metadata: dict[str, str] | None = None,
) -> TrainResult:
    """Train `model` in place on `data`'s training split; writes `out/weights.safetensors` and
    `out/train.json`. `teacher` is needed (and used) only with the `teacher` loss."""
    cfg = TrainConfig(
        iters=settings.steps,
        batch=settings.batch,
        crop=settings.crop,
        lr=settings.lr,
        seed=settings.seed,
        accelerator=settings.accelerator,
    )
    target = teacher_target(teacher) if settings.loss == "teacher" and teacher is not None else None
    return train(model, open_dataset(data, split="train"), out, cfg, metadata=metadata, target=target)
