"""Evaluation with NAFNet's protocol: whole images, padded inside the network, outputs scored as
saved uint8 images (PSNR over RGB, peak 255, no border crop; 2-D and 3-D SSIM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import torch
from attrs import frozen
from torch import nn

from archc.runtime.data.pairs import PairedImages
from archc.runtime.evaluation.metrics import psnr, ssim, ssim3d
from archc.runtime.restore.deblur import restore_image as restore


@frozen
class ImageScore:
    name: str
    psnr: float
    ssim: float
    ssim3d: float
    input_psnr: float


@frozen
class EvalResult:
    dataset: str
    split: str
    images: tuple[ImageScore, ...]
    protocol: str = "8bit"  # how 16-bit files were read (DPDD): "8bit" (>> 8) or "16bit"
    ensemble: bool = False  # outputs are the 8-view self-ensemble (`restore_image(..., ensemble=True)`)

    def mean(self, key: str) -> float:
        return float(np.mean([getattr(s, key) for s in self.images]))

    def to_json(self, per_image: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"dataset": self.dataset, "split": self.split, "count": len(self.images),
                               "bit_protocol": self.protocol, "self_ensemble": self.ensemble,
                               **{k: self.mean(k) for k in ("psnr", "ssim", "ssim3d", "input_psnr")},
                               "protocol": "uint8 RGB, peak 255, crop 0; ssim: 2-D Gaussian; ssim3d: 11x11x11"}
        if per_image:
            out["images"] = [attrs.asdict(s) for s in self.images]
        return out


def evaluate(model: nn.Module, pairs: PairedImages, limit: int | None = None,
             on_image: Callable[[ImageScore], None] | None = None, *, ensemble: bool = False,
             max_pixels: int | None = None) -> EvalResult:
    """Score `model` (float32, on its own device) on the first `limit` pairs; a frame of more than
    `max_pixels` pixels is restored in tiles (`runtime.restore.deblur.restore_image`)."""
    model.eval()
    scores = []
    for i in range(len(pairs) if limit is None else min(limit, len(pairs))):
        sample = pairs[i]
        blur = torch.from_numpy(np.ascontiguousarray(sample.blur.transpose(2, 0, 1)))
        out = restore(model, blur, ensemble=ensemble, max_pixels=max_pixels).numpy().transpose(1, 2, 0)
        score = ImageScore(sample.name, psnr(out, sample.sharp), ssim(out, sample.sharp),
                           ssim3d(out, sample.sharp), psnr(sample.blur, sample.sharp))
        scores.append(score)
        if on_image is not None:
            on_image(score)
    return EvalResult(pairs.kind, pairs.split, tuple(scores), pairs.protocol, ensemble)
