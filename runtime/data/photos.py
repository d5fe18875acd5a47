"""The natural photographs that installed packages ship, used as sharp sources offline.

(facts/environment.md, "Offline images".) scikit-image's `cat` is the same picture as
`chelsea`, so only `chelsea` is listed. Grey photographs are repeated over three channels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from attrs import frozen

from archc.errors import DataError


@frozen
class Photo:
    """A named source photograph; `load()` gives `H x W x 3` uint8."""

    name: str
    package: str
    colour: bool
    load: Callable[[], np.ndarray]


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        return np.asarray(getattr(data, name)())

    return load


def _motorcycle() -> np.ndarray:
    from skimage import data

    return np.asarray(data.stereo_motorcycle()[0])  # the left view of the stereo pair


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_images

        bundle = load_sample_images()
        names = [str(f).replace("\\", "/").rsplit("/", 1)[-1] for f in bundle.filenames]
        return np.asarray(bundle.images[names.index(filename)])

    return load


def _grace_hopper() -> np.ndarray:
    from matplotlib import cbook
    from PIL import Image

    with Image.open(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))) as im:
        return np.asarray(im.convert("RGB"))


CATALOGUE: tuple[Photo, ...] = (
    Photo("astronaut", "scikit-image", True, _skimage("astronaut")),
    Photo("coffee", "scikit-image", True, _skimage("coffee")),
    Photo("chelsea", "scikit-image", True, _skimage("chelsea")),
    Photo("rocket", "scikit-image", True, _skimage("rocket")),
    Photo("motorcycle", "scikit-image", True, _motorcycle),
    Photo("china", "scikit-learn", True, _sklearn("china.jpg")),
    Photo("flower", "scikit-learn", True, _sklearn("flower.jpg")),
    Photo("grace_hopper", "matplotlib", True, _grace_hopper),
    Photo("camera", "scikit-image", False, _skimage("camera")),
    Photo("coins", "scikit-image", False, _skimage("coins")),
    Photo("moon", "scikit-image", False, _skimage("moon")),
    Photo("brick", "scikit-image", False, _skimage("brick")),
    Photo("grass", "scikit-image", False, _skimage("grass")),
    Photo("gravel", "scikit-image", False, _skimage("gravel")),
)
_BY_NAME = {photo.name: photo for photo in CATALOGUE}


def photo_names(*, colour: bool | None = None) -> tuple[str, ...]:
    """Names of the catalogue's photographs (only colour / only grey ones when asked)."""
    return tuple(p.name for p in CATALOGUE if colour is None or p.colour == colour)


def load_photo(name: str) -> np.ndarray:
    """The photograph `name` as `H x W x 3` uint8; DataError when unknown or not loadable."""
    if name not in _BY_NAME:
        raise DataError(
            f"no source photograph named `{name}`", code="E0510", help=f"choose from: {', '.join(photo_names())}"
        )
    photo = _BY_NAME[name]
    try:
        image = photo.load()
    except (ImportError, OSError, ValueError) as exc:
        raise DataError(
            f"cannot load photograph `{name}` shipped with {photo.package}: {exc}",
            code="E0510",
            help=f"reinstall {photo.package}",
        ) from exc
    return _as_rgb(image)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3]).astype(np.uint8)
