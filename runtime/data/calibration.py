"""Calibration images for static quantization: centre crops of a dataset's blurred inputs.

The quantized graph's activation ranges are set by running the float graph on these
(`compiler/quantize.py`); they come from the training split by default, so the images a network
is scored on never set its ranges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from archc.compiler.quantize import Calibration

from .crops import ValCrops
from .datasets import open_dataset


def calibration_images(data: str | Path, images: int = 16, crop: int = 128, split: str = "train") -> list[np.ndarray]:
    """The first `images` centre crops (`1 x 3 x crop x crop` float32 in [0, 1]) of the blurred
    inputs of `data`'s `split`."""
    view = ValCrops(open_dataset(data, split=split), crop)
    return [view[i][1].numpy()[None] for i in range(min(images, len(view)))]


def calibration(data: str | Path, method: str = "minmax", images: int = 16, crop: int = 128,
                split: str = "train") -> Calibration:
    """A `Calibration` of `images` crops of `data` with the range `method`."""
    return Calibration(tuple(calibration_images(data, images, crop, split)), method,
                       f"{data} ({split}, {images} centre crops of {crop} px)")
