"""The teacher check: a teacher that does not restore is no teacher to restructure.

Every conclusion of the method (saliency, surrogates, the front) is relative to the teacher. A
teacher whose output is no sharper than its input (an untrained NAFNet returns its input exactly:
its residual scales start at zero) makes every candidate look harmless, and the search then
"finds" networks that replace most blocks by `identity`. So the commands that build on a teacher
first score it against the blurred input on the same validation crops (`images` test pairs drawn
across the split's scenes as the search draws them, centre `crop` crops, NAFNet's PSNR)
and stop unless it gains at least `MIN_GAIN_DB`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from attrs import frozen

from archc.errors import WeakTeacherError
from archc.runtime.data.crops import ValCrops
from archc.runtime.data.pairs import PairedImages
from archc.runtime.data.validation import validation_indices
from archc.runtime.evaluation.metrics import psnr

MIN_GAIN_DB = 0.1
VAL_CROP = 128  # px: the centre crops `archc search` and `archc run` validate on
ALLOW_FLAG = "--allow-weak-teacher"



@frozen
class TeacherCheck:
    """The teacher's and the blurred input's mean PSNR (dB) over the same validation crops."""

    teacher_psnr: float
    input_psnr: float
    images: int
    crop: int | None

    @property
    def gain(self) -> float:
        return self.teacher_psnr - self.input_psnr

    @property
    def passed(self) -> bool:
        return self.gain >= MIN_GAIN_DB

    def where(self) -> str:
        size = f"{self.crop} px centre crops" if self.crop else "whole images"
        return f"{self.images} validation images ({size})"

    def line(self) -> str:
        return (f"teacher {self.teacher_psnr:.3f} dB vs blurred input {self.input_psnr:.3f} dB on "
                f"{self.where()}: {self.gain:+.3f} dB")

    def to_json(self) -> dict[str, Any]:
        return {"teacher_psnr": self.teacher_psnr, "input_psnr": self.input_psnr, "gain_db": self.gain,
                "images": self.images, "crop": self.crop, "min_gain_db": MIN_GAIN_DB, "passed": self.passed}


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def measure(model: torch.nn.Module, pairs: PairedImages, images: int, crop: int | None,
            device: torch.device | str = "cpu") -> TeacherCheck:
    """Score `model` (float32, run on `device` one crop at a time) and the blurred input on the
    `images` pairs of `pairs` drawn across their scenes (`runtime/data/validation.py`),
    centre-cropped to `crop` (whole images when None)."""
    view = ValCrops(pairs, crop)
    model = model.to(device).eval()
    teacher, blurred = [], []
    for i in validation_indices(pairs, images):
        _, blur, sharp = view[i]
        with torch.inference_mode():
            out = model(blur[None].to(device))[0].clamp(0, 1).float().cpu()
        target = sharp.numpy().transpose(1, 2, 0)
        teacher.append(psnr(out.numpy().transpose(1, 2, 0), target))
        blurred.append(psnr(blur.numpy().transpose(1, 2, 0), target))
    return TeacherCheck(_mean(teacher), _mean(blurred), len(teacher), crop)


def require(check: TeacherCheck, allow: bool = False) -> TeacherCheck:
    """`check` when the teacher gains at least `MIN_GAIN_DB` (or `allow`); else raises
    `WeakTeacherError` naming both PSNRs."""
    if check.passed or allow:
        return check
    raise WeakTeacherError(
        f"the teacher does not restore: {check.teacher_psnr:.3f} dB against {check.input_psnr:.3f} dB for the "
        f"blurred input on {check.where()} ({check.gain:+.3f} dB; at least +{MIN_GAIN_DB} dB expected)",
        code="E1801",
        help=f"train the teacher longer (`archc train --minutes M`; for `archc run`, delete RUN/teacher and raise "
        f"--train-minutes) or pass trained --weights; {ALLOW_FLAG} goes on anyway, but every PSNR drop is then "
        "measured against a network that does not deblur",
    )
