"""The objectives of a network of the search space, evaluated without training.

Quality: the teacher with the chosen slots replaced by their distilled surrogates, scored on a
fixed validation subset (centre crops, drawn across the test split's scenes by
`validation_indices`) with NAFNet's protocol; PSNR drop = teacher PSNR - network
PSNR (dB, mean over images); `psnr_drop_se` is the standard error of that mean (of the per-image
differences, paired on the same images: the validation noise of the drop; 0 with one image).
Latency: predicted from the device's block table (exact and deterministic, so the search models
it exactly), or measured end to end per network. In a precision space both follow each slot's
precision: quality by fake quantization (`runtime/network/quantsim.py`), latency from one block table per
precision (`runtime/profile/precision.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from archc.compiler.space import SearchSpace
from archc.dsl.spec import Block, Spec
from archc.runtime.accel.accelerator import resolve, resolve_here
from archc.runtime.accel.memory import out_of_memory_as_error
from archc.runtime.data.crops import ValCrops
from archc.runtime.data.pairs import PairedImages
from archc.runtime.data.validation import validation_indices
from archc.runtime.evaluation.metrics import psnr, ssim
from archc.runtime.network.build import build
from archc.runtime.network.quantsim import simulate

Indices = tuple[int, ...]


def latency_matrix(space: SearchSpace, predict: Callable[[Mapping[str, Block]], float]) -> tuple[float, np.ndarray]:
    """Split an additive predictor into (constant, slots x candidates matrix of deltas) so that a
    batch of index rows is predicted with one gather. Checked exact for additive predictors."""
    base = predict({})
    m = np.zeros((len(space.slots), max(space.radices)))
    for i, slot in enumerate(space.slots):
        for c, block in enumerate(slot.candidates):
            m[i, c] = predict({slot.name: block}) - base
    return base, m


class RowsLatency:
    """Latency of index rows by one gather: `base` + the sum over slots of `matrix[slot, index]`
    (picklable, so evaluations can run in worker processes)."""

    def __init__(self, base: float, matrix: np.ndarray) -> None:
        self.base, self.matrix = base, matrix
        self.cols = np.arange(matrix.shape[0])

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=int).reshape(-1, self.matrix.shape[0])
        return self.base + self.matrix[self.cols, rows].sum(axis=1)  # type: ignore[no-any-return]

    def one(self, idx: Indices) -> float:
        return float(self(np.asarray([idx]))[0])


def rows_latency(base: float, matrix: np.ndarray) -> RowsLatency:
    return RowsLatency(base, matrix)


def image_scores(model: torch.nn.Module, blur: torch.Tensor,
                 sharp: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """Per-image PSNR and SSIM (NAFNet's protocol) of `model` on `blur` (`N x 3 x H x W`) against
    the `H x W x 3` images `sharp`. The model runs in float32 on its own device."""
    model.eval()
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    with torch.inference_mode():
        out = model(blur.to(device)).clamp(0, 1).float().cpu().numpy().transpose(0, 2, 3, 1)
    return ([psnr(o, s) for o, s in zip(out, sharp, strict=True)],
            [ssim(o, s) for o, s in zip(out, sharp, strict=True)])


def batch_scores(model: torch.nn.Module, blur: torch.Tensor, sharp: list[np.ndarray]) -> tuple[float, float]:
    """Mean PSNR and SSIM of `image_scores`."""
    p, s = image_scores(model, blur, sharp)
    return float(np.mean(p)), float(np.mean(s))


def standard_error(diffs: np.ndarray) -> float:
    """Standard error of the mean of paired per-image differences (0 for fewer than two images)."""
    return float(np.std(diffs, ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else 0.0


class QualityEvaluator:
    """PSNR (and SSIM) of assembled networks on a fixed validation batch, against the teacher;
    every network runs on `device` (a `runtime.accel.accelerator` name, resolved where it is scored).
    The teacher is scored here when it is built: on `device` when this machine has it, else on
    the CPU (workers of a cluster may have an accelerator the driver lacks; float32 either way)."""

    def __init__(self, spec: Spec, space: SearchSpace, teacher: str | Path, bank: str | Path | None,
                 pairs: PairedImages, images: int = 8, crop: int | None = 128, device: str = "cpu",
                 calibration: torch.Tensor | None = None) -> None:
        self.spec, self.space, self.teacher, self.bank = spec, space, teacher, bank
        self.device = device
        self.calibration = calibration  # `N x C x H x W` training crops that calibrate quantized slots
        view = ValCrops(pairs, crop)
        items = [view[i] for i in validation_indices(pairs, images)]
        self.names = [n for n, _, _ in items]
        self.blur = torch.stack([b for _, b, _ in items])
        self.sharp = [s.numpy().transpose(1, 2, 0) for _, _, s in items]
        self.teacher_psnrs, ssims = self._scores(build(spec, None, teacher), str(resolve_here(self.device)))
        self.teacher_scores = (float(np.mean(self.teacher_psnrs)), float(np.mean(ssims)))

    def _scores(self, model: torch.nn.Module, name: str | None = None) -> tuple[list[float], list[float]]:
        device = resolve(name or self.device)
        hint = f"fewer --val-images (now {len(self.names)}) or a smaller --crop score in less memory"
        with out_of_memory_as_error("scoring a network", device, hint):
            return image_scores(model.to(device), self.blur, self.sharp)

    def model(self, idx: Indices) -> torch.nn.Module:
        """The network at `idx`; in a precision space each slot in its precision, by fake
        quantization in torch (`runtime/network/quantsim.py` says why not the exported QDQ graph)."""
        model = build(self.spec, self.space.decode(idx), self.teacher, surrogates=self.bank)
        if not self.space.has_precision:
            return model
        return simulate(model, self.space.slots, self.space.precisions_of(idx), self.calibration)

    def __call__(self, idx: Indices) -> dict[str, float]:
        psnrs, ssims = self._scores(self.model(idx))
        p, s = float(np.mean(psnrs)), float(np.mean(ssims))
        diffs = np.asarray(self.teacher_psnrs) - np.asarray(psnrs)
        return {"psnr": p, "ssim": s, "psnr_drop": self.teacher_scores[0] - p,
                "ssim_drop": self.teacher_scores[1] - s, "psnr_drop_se": standard_error(diffs)}


class NetworkObjectives:
    """quality + latency -> the dict the search engine journals."""

    def __init__(self, quality: Callable[[Indices], dict[str, float]],
                 latency: Callable[[Indices], float]) -> None:
        self.quality, self.latency = quality, latency

    def __call__(self, idx: Indices) -> dict[str, float]:
        return {**self.quality(idx), "latency_ms": float(self.latency(idx))}
