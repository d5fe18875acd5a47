"""A paired-image dataset: named (blurred, sharp) file pairs, decoded once and kept in memory.

Every layout loader in `datasets.py` ends by building a `PairedImages`; the training and
validation views in `crops.py` read from it. Decoded images are cached as their stored integers
(uint8, or uint16 for 16-bit files under the 16-bit protocol), four times smaller than float32,
and converted to float per access, which costs far less than decoding a PNG.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
from attrs import frozen

from archc.errors import DataError

from .images import BitProtocol, read_raw, read_size, to_float


@frozen
class Pair:
    """One sample of a dataset: a unique name, the blurred (input) file and the sharp (target)."""

    name: str
    blur: Path
    sharp: Path


class Sample(NamedTuple):
    """(name, blur, sharp); both images float32 `H x W x 3` in [0, 1]."""

    name: str
    blur: np.ndarray
    sharp: np.ndarray


class PairedImages:
    """A sized, indexable sequence of `Sample`s with an in-memory cache of decoded images.

    `kind`, `split` and `protocol` record where the pairs came from and how 16-bit files are
    read, so that a score can say which protocol produced it.
    """

    def __init__(
        self,
        pairs: Sequence[Pair],
        *,
        kind: str,
        root: Path,
        split: str,
        protocol: BitProtocol = "16bit",
    ) -> None:
        if not pairs:
            raise DataError(
                f"no image pairs found for split `{split}` under {root}",
                code="E0508",
                help="check the dataset path, the split name and the layout",
            )
        _check_unique_names(pairs, root)
        self.pairs: tuple[Pair, ...] = tuple(pairs)
        self.kind = kind
        self.root = root
        self.split = split
        self.protocol: BitProtocol = protocol
        self._cache: dict[Path, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> Sample:
        blur, sharp = self.raw(index)
        return Sample(self.pairs[index].name, to_float(blur), to_float(sharp))

    def __iter__(self) -> Iterator[Sample]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return (
            f"PairedImages(kind={self.kind!r}, split={self.split!r}, pairs={len(self)}, "
            f"protocol={self.protocol!r}, root={str(self.root)!r})"
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.pairs)

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The stored integers of pair `index` (`H x W x 3` uint8/uint16 each), decoded once."""
        pair = self.pairs[index]
        blur, sharp = self._decoded(pair.blur), self._decoded(pair.sharp)
        _check_same_size(pair, blur.shape[:2], sharp.shape[:2])
        return blur, sharp

    def preload(self, workers: int = 4) -> None:
        """Decode every image now (Pillow releases the GIL, so threads decode in parallel)."""
        todo = [p for pair in self.pairs for p in (pair.blur, pair.sharp) if p not in self._cache]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for path, raw in zip(todo, pool.map(self._read, todo), strict=True):
                self._cache[path] = raw
        for index in range(len(self)):
            self.raw(index)

    def check_sizes(self) -> None:
        """Compare blurred and sharp sizes from the file headers (cheap: pixels are not decoded)."""
        for pair in self.pairs:
            _check_same_size(pair, read_size(pair.blur), read_size(pair.sharp))

    def _decoded(self, path: Path) -> np.ndarray:
        if path not in self._cache:
            self._cache[path] = self._read(path)
        return self._cache[path]

    def _read(self, path: Path) -> np.ndarray:
        return read_raw(path, protocol=self.protocol)


def _check_same_size(pair: Pair, blur: tuple[int, ...], sharp: tuple[int, ...]) -> None:
    if tuple(blur) != tuple(sharp):
        raise DataError(
            f"image sizes differ: {pair.blur} is {blur[1]}x{blur[0]} but its sharp twin "
            f"{pair.sharp} is {sharp[1]}x{sharp[0]} (W x H)",
            code="E0504",
            help="a blurred image and its sharp target must have the same size",
        )


def _check_unique_names(pairs: Sequence[Pair], root: Path) -> None:
    seen: dict[str, Pair] = {}
    for pair in pairs:
        if pair.name in seen:
            raise DataError(
                f"two pairs under {root} have the same name `{pair.name}`: {seen[pair.name].blur} and {pair.blur}",
                code="E0506",
                help="sample names must be unique within a split",
            )
        seen[pair.name] = pair
