"""Reading and writing images as float32 `H x W x 3` arrays in [0, 1], 8-bit and 16-bit PNG.

Pillow decodes 16-bit RGB PNGs only down to 8 bits (it keeps the high byte), so the full 16-bit
value is rebuilt from two Pillow decodes of the same file: one that keeps the high byte and one
that keeps the low byte (the `RGB;16L` unpacker applied to big-endian data). Both run in C and
both apply the PNG row filters correctly, which a pure-numpy decoder could not do quickly.
Writing 16-bit RGB, which Pillow cannot do at all, uses the small PNG encoder at the bottom.

Two protocols read a 16-bit file (DPDD; see facts/datasets.md 5.3): "16bit" keeps every bit
(value / 65535) and "8bit" keeps the high byte (value >> 8, then / 255), as OpenCV does by
default and as the published single-image DPDD numbers were scored. 8-bit files read the same
under both.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

import numpy as np
from PIL import Image, ImageFile

from archc.errors import DataError

BitProtocol = Literal["8bit", "16bit"]
BIT_PROTOCOLS: tuple[str, ...] = ("8bit", "16bit")

# What Pillow raises on a truncated or malformed file, across its format plugins.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error, Image.DecompressionBombError)

# Pillow's raw modes for 16-bit PNG colour data (high byte kept) -> the low-byte twin.
_LOW_BYTE_RAWMODE = {"RGB;16B": "RGB;16L", "RGBA;16B": "RGBA;16L"}


def read_raw(path: str | Path, *, protocol: BitProtocol = "16bit") -> np.ndarray:
    """Decode an image file to its stored integers.

    Returns `H x W x 3` uint8 (8-bit files, and 16-bit files under protocol "8bit") or uint16
    (16-bit files under protocol "16bit"). Grey images are repeated over 3 channels; an alpha
    channel is dropped.

    Raises DataError naming the file when it is missing or cannot be decoded.
    """
    path = Path(path)
    _check_protocol(protocol)
    with _decoding(path), Image.open(path) as im:
        rawmode = _png_rawmode(im)
        if rawmode in _LOW_BYTE_RAWMODE:
            high = np.asarray(im.convert("RGB"))
            if protocol == "8bit":
                return high
            return _join_bytes(high, _decode_low_bytes(path, _LOW_BYTE_RAWMODE[rawmode]))
        return _decode_plain(im, protocol)


def to_float(raw: np.ndarray) -> np.ndarray:
    """uint8 (/255) or uint16 (/65535) `H x W x C` -> float32 in [0, 1], same shape."""
    if raw.dtype == np.uint8:
        return raw.astype(np.float32) / np.float32(255.0)
    if raw.dtype == np.uint16:
        return raw.astype(np.float32) / np.float32(65535.0)
    raise TypeError(f"expected a uint8 or uint16 array, got {raw.dtype}")


def read_image(path: str | Path, *, protocol: BitProtocol = "16bit") -> np.ndarray:
    """Read an image as float32 `H x W x 3` in [0, 1]; see `read_raw` for the protocols."""
    return to_float(read_raw(path, protocol=protocol))


def read_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image from its header only, without decoding the pixels."""
    path = Path(path)
    with _decoding(path), Image.open(path) as im:
        width, height = im.size
    return height, width


def quantize(image: np.ndarray, bits: Literal[8, 16] = 8) -> np.ndarray:
    """Float `H x W x C` -> uint8/uint16: clamp to [0, 1], scale to 2^bits - 1, round half to even."""
    peak = 255.0 if bits == 8 else 65535.0
    scaled = np.round(np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0) * peak)
    return scaled.astype(np.uint8 if bits == 8 else np.uint16)


def write_image(
    path: str | Path, image: np.ndarray, *, bits: Literal[8, 16] | None = None, compress_level: int = 6
) -> None:
    """Write `H x W x 3` as an RGB PNG, atomically (`.NAME.tmp` in the same folder, then rename).

    uint8 / uint16 arrays are written as they are (8 / 16 bits); float arrays in [0, 1] are
    quantised to `bits` (default 8). `compress_level` is zlib's 0..9 (1 is about 2.5x faster
    than 6 for files about 15% larger).
    """
    path = Path(path)
    data = _as_storable(np.asarray(image), bits)
    tmp = path.parent / f".{path.name}.tmp"
    try:
        with open(tmp, "wb") as fh:
            _encode_png(fh, data, compress_level)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(
            f"cannot write image {path}: {exc}", code="E0509", help="check that the folder exists and is writable"
        ) from exc


# --- decoding -------------------------------------------------------------------------------


@contextmanager
def _decoding(path: Path) -> Iterator[None]:
    """Turn every failure of opening or decoding `path` into a DataError that names it."""
    if not path.is_file():
        what = "is a folder, not an image" if path.is_dir() else "does not exist"
        raise DataError(f"image file {path} {what}", code="E0501", help="check the dataset path and layout")
    try:
        yield
    except _DECODE_ERRORS as exc:
        raise DataError(
            f"cannot decode image {path}: {exc}",
            code="E0502",
            help="the file is corrupt, truncated or not an image; replace it",
        ) from exc


def _check_protocol(protocol: str) -> None:
    if protocol not in BIT_PROTOCOLS:
        raise DataError(
            f"unknown bit protocol `{protocol}`", code="E0507", help="use '8bit' (value >> 8, /255) or '16bit' (/65535)"
        )


def _png_rawmode(im: ImageFile.ImageFile) -> str | None:
    """The raw mode of a single-tile PNG (e.g. 'RGB;16B'), or None for anything else."""
    if im.format != "PNG" or len(im.tile) != 1:
        return None
    args = im.tile[0].args
    rawmode = args if isinstance(args, str) else args[0] if isinstance(args, tuple) else None
    return rawmode if isinstance(rawmode, str) else None


def _decode_low_bytes(path: Path, rawmode: str) -> np.ndarray:
    """Decode `path` again, keeping the low byte of each 16-bit sample: `H x W x 3` uint8."""
    with Image.open(path) as im:
        tile = im.tile[0]
        args = tile.args
        new_args = (rawmode, *args[1:]) if isinstance(args, tuple) else rawmode
        im.tile = [ImageFile._Tile(tile.codec_name, tile.extents, tile.offset, new_args)]
        return np.asarray(im.convert("RGB"))


def _join_bytes(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    return (high.astype(np.uint16) << 8) | low.astype(np.uint16)


def _decode_plain(im: Image.Image, protocol: BitProtocol) -> np.ndarray:
    """Everything but 16-bit colour PNGs: 8-bit modes, palettes, and 16-bit grey ('I;16*', 'I')."""
    if im.mode.startswith("I"):
        grey = np.asarray(im).astype(np.int64)
        if grey.min() < 0 or grey.max() > 65535:
            raise ValueError(f"{im.mode} pixel values outside the 16-bit range")
        wide = grey.astype(np.uint16)
        value = (wide >> 8).astype(np.uint8) if protocol == "8bit" else wide
        return np.repeat(value[:, :, None], 3, axis=2)
    return np.asarray(im.convert("RGB"))


# --- encoding -------------------------------------------------------------------------------


def _as_storable(image: np.ndarray, bits: Literal[8, 16] | None) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 image, got shape {image.shape}")
    if image.dtype in (np.uint8, np.uint16):
        native = 8 if image.dtype == np.uint8 else 16
        if bits is not None and bits != native:
            raise ValueError(f"a {image.dtype} array cannot be written with bits={bits}")
        return image
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"expected a float, uint8 or uint16 image, got {image.dtype}")
    return quantize(image, bits or 8)


def _encode_png(fh: IO[bytes], data: np.ndarray, compress_level: int) -> None:
    if data.dtype == np.uint8:
        Image.fromarray(data, "RGB").save(fh, format="PNG", compress_level=compress_level)
    else:
        fh.write(encode_png16(data, level=compress_level))


def encode_png16(data: np.ndarray, *, level: int = 6) -> bytes:
    """A 16-bit RGB PNG of `H x W x 3` uint16 data, every row filtered with 'Up' (type 2)."""
    height, width, _ = data.shape
    rows = data.astype(">u2").view(np.uint8).reshape(height, width * 6)
    up = np.zeros_like(rows)
    up[1:] = rows[:-1]
    filtered = rows - up  # uint8 arithmetic wraps modulo 256, as the PNG filter is defined
    body = np.concatenate([np.full((height, 1), 2, np.uint8), filtered], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(body.tobytes(), level))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)
