"""Image I/O: 8/16-bit PNG round trips, both 16-bit protocols, every PNG row filter, errors."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archc.errors import DataError
from archc.runtime.data.images import (
    quantize,
    read_image,
    read_raw,
    read_size,
    to_float,
    write_image,
)

RNG = np.random.default_rng(7)


def _png16(data: np.ndarray, row_filter: int) -> bytes:
    """An independent 16-bit RGB PNG encoder that applies one row filter (0..4) everywhere."""
    height, width, _ = data.shape
    raw = data.astype(">u2").view(np.uint8).reshape(height, width * 6).astype(np.int64)
    left = np.zeros_like(raw)
    left[:, 6:] = raw[:, :-6]
    up = np.zeros_like(raw)
    up[1:] = raw[:-1]
    upper_left = np.zeros_like(raw)
    upper_left[1:, 6:] = raw[:-1, :-6]
    estimate = left + up - upper_left
    paeth = np.where(
        (abs(estimate - left) <= abs(estimate - up)) & (abs(estimate - left) <= abs(estimate - upper_left)),
        left,
        np.where(abs(estimate - up) <= abs(estimate - upper_left), up, upper_left),
    )
    predictor = [np.zeros_like(raw), left, up, (left + up) // 2, paeth][row_filter]
    rows = ((raw - predictor) % 256).astype(np.uint8)
    body = np.concatenate([np.full((height, 1), row_filter, np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(body)) + chunk(b"IEND", b"")


def test_8bit_round_trip(tmp_path: Path) -> None:
    image = RNG.random((13, 17, 3)).astype(np.float32)
    write_image(tmp_path / "a.png", image)
    back = read_image(tmp_path / "a.png")
    assert back.dtype == np.float32 and back.shape == (13, 17, 3)
    np.testing.assert_array_equal(back, quantize(image, 8) / np.float32(255))
    assert read_raw(tmp_path / "a.png").dtype == np.uint8


def test_16bit_round_trip_and_both_protocols(tmp_path: Path) -> None:
    data = RNG.integers(0, 65536, (11, 9, 3)).astype(np.uint16)
    write_image(tmp_path / "a.png", data)
    np.testing.assert_array_equal(read_raw(tmp_path / "a.png", protocol="16bit"), data)
    np.testing.assert_array_equal(read_raw(tmp_path / "a.png", protocol="8bit"), (data >> 8).astype(np.uint8))
    np.testing.assert_allclose(read_image(tmp_path / "a.png"), data / 65535.0, atol=1e-7)
    np.testing.assert_allclose(read_image(tmp_path / "a.png", protocol="8bit"), (data >> 8) / 255.0, atol=1e-7)


def test_float_written_as_16bit(tmp_path: Path) -> None:
    image = RNG.random((5, 6, 3))
    write_image(tmp_path / "a.png", image, bits=16)
    np.testing.assert_array_equal(read_raw(tmp_path / "a.png"), quantize(image, 16))


@pytest.mark.parametrize("row_filter", [0, 1, 2, 3, 4])
def test_16bit_decoding_undoes_every_png_row_filter(tmp_path: Path, row_filter: int) -> None:
    data = RNG.integers(0, 65536, (23, 31, 3)).astype(np.uint16)
    (tmp_path / "a.png").write_bytes(_png16(data, row_filter))
    np.testing.assert_array_equal(read_raw(tmp_path / "a.png"), data)


def test_grey_and_alpha_images_become_rgb(tmp_path: Path) -> None:
    grey16 = RNG.integers(0, 65536, (6, 7)).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(read_raw(tmp_path / "g16.png"), np.stack([grey16] * 3, axis=2))
    np.testing.assert_array_equal(
        read_raw(tmp_path / "g16.png", protocol="8bit"), np.stack([grey16 >> 8] * 3, axis=2).astype(np.uint8)
    )
    rgba = RNG.integers(0, 256, (6, 7, 4)).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_raw(tmp_path / "rgba.png"), rgba[:, :, :3])
    grey8 = RNG.integers(0, 256, (6, 7)).astype(np.uint8)
    Image.fromarray(grey8).save(tmp_path / "g8.png")
    np.testing.assert_array_equal(read_raw(tmp_path / "g8.png"), np.stack([grey8] * 3, axis=2))


def test_read_size_reads_the_header(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", np.zeros((4, 9, 3), np.uint8))
    assert read_size(tmp_path / "a.png") == (4, 9)


def test_to_float_scales_by_dtype() -> None:
    assert to_float(np.full((1, 1, 3), 255, np.uint8)).max() == 1.0
    assert to_float(np.full((1, 1, 3), 65535, np.uint16)).dtype == np.float32
    with pytest.raises(TypeError):
        to_float(np.zeros((1, 1, 3), np.int32))


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing.png") as info:
        read_image(tmp_path / "missing.png")
    assert info.value.diagnostics[0].code == "E0501"


@pytest.mark.parametrize("content", [b"not a png at all", "truncated"])
def test_corrupt_file_names_it(tmp_path: Path, content: bytes | str) -> None:
    path = tmp_path / "bad.png"
    if content == "truncated":
        write_image(path, RNG.integers(0, 256, (64, 64, 3)).astype(np.uint8))
        path.write_bytes(path.read_bytes()[:200])
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    with pytest.raises(DataError, match="bad.png") as info:
        read_image(path)
    assert info.value.diagnostics[0].code == "E0502"


def test_corrupt_16bit_data_names_it(tmp_path: Path) -> None:
    path = tmp_path / "bad16.png"
    good = _png16(RNG.integers(0, 65536, (16, 16, 3)).astype(np.uint16), 0)
    path.write_bytes(good[:60] + b"\x00" * 40 + good[100:])
    with pytest.raises(DataError, match="bad16.png"):
        read_raw(path)


def test_write_is_atomic_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    write_image(path, np.zeros((3, 3, 3), np.uint8))
    write_image(path, np.full((3, 3, 3), 255, np.uint8))
    assert read_raw(path).min() == 255
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_write_into_missing_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere"):
        write_image(tmp_path / "nowhere" / "a.png", np.zeros((3, 3, 3), np.uint8))


def test_write_rejects_bad_shapes_and_bits(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.png", np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.png", np.zeros((3, 3, 3), np.uint8), bits=16)
