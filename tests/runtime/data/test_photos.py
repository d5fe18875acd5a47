"""Every catalogued photograph loads offline as H x W x 3 uint8, and the catalogue has no twins."""

from __future__ import annotations

import numpy as np
import pytest

from archc.errors import DataError
from archc.runtime.data.photos import load_photo, photo_names


def test_every_photo_loads_as_rgb_uint8() -> None:
    seen = {}
    for name in photo_names():
        image = load_photo(name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert min(image.shape[:2]) >= 256, name
        seen[name] = image.tobytes()
    assert len(set(seen.values())) == len(seen)  # no photograph listed twice (skimage cat = chelsea)


def test_unknown_photo() -> None:
    with pytest.raises(DataError, match="no source photograph named `lena`"):
        load_photo("lena")
