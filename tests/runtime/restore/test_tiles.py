"""Tiled restoration equals the whole frame's for a network without global operations."""

from __future__ import annotations

import pytest
import torch

from archc.api import build
from archc.runtime.accel.memory import MemoryLimitError
from archc.runtime.restore.deblur import budget_tile, restore_image
from archc.runtime.restore.tiles import TileError, plan, windows

LOCAL = """
arch local {
    channels in 3 out 3
    width 8
    stem conv3x3 ; head conv3x3
    down conv2x2 ; up pixelshuffle ; skip add ; residual global
    encoder enc1: naf(sca=off)
    encoder enc2: dsconv
    middle mid: naf(sca=off)
    decoder dec2: dsconv
    decoder dec1: naf(sca=off)
}
"""


@pytest.mark.parametrize(("length", "tile", "overlap", "align"), [(300, 96, 16, 4), (97, 32, 4, 1), (64, 64, 8, 4)])
def test_windows_cover_the_frame_aligned_with_overlapping_valid_parts(
    length: int, tile: int, overlap: int, align: int
) -> None:
    ws = windows(length, tile, overlap, align)
    assert ws[0].start == ws[0].valid_start == 0 and ws[-1].stop == ws[-1].valid_stop == length
    for a, b in zip(ws, ws[1:], strict=False):
        assert b.start % align == 0 and b.stop - b.start <= tile
        assert a.valid_stop - b.valid_start >= overlap // 2  # blended where they meet


def test_weights_are_positive_everywhere() -> None:
    total = torch.zeros(130, 170)
    for rows, cols, w in plan(130, 170, 64, 12, 4):
        total[rows, cols] += w
    assert total.min() > 0


def test_a_tile_too_small_for_its_overlap_is_an_error() -> None:
    with pytest.raises(TileError) as info:
        windows(500, 64, 32, 4)
    assert info.value.diagnostics[0].code == "E1531" and "at least" in (info.value.diagnostics[0].help or "")


def test_tiled_equals_whole_frame_within_float_tolerance() -> None:
    torch.manual_seed(0)
    model = build(LOCAL).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("beta", "gamma")):  # residual scales start at 0: make the blocks act
                p.normal_(0, 0.5)
    image = torch.rand(3, 150, 210)
    whole = restore_image(model, image)
    tiled = restore_image(model, image, tile=96, overlap=28)
    assert not torch.equal(whole, image.clamp(0, 1))
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)


def test_a_frame_over_the_budget_tiles_itself() -> None:
    torch.manual_seed(0)
    model = build(LOCAL).eval()
    assert budget_tile(100 * 100, None, 4) is None and budget_tile(100 * 100, 100 * 100, 4) is None
    assert budget_tile(1000 * 1000, 128 * 130, 4) == 128
    image = torch.rand(3, 150, 210)
    torch.testing.assert_close(
        restore_image(model, image, overlap=28, max_pixels=96 * 96), restore_image(model, image), atol=1e-5, rtol=0
    )


def test_a_budget_too_small_for_the_overlap_is_one_memory_error() -> None:
    model = build(LOCAL).eval()
    with pytest.raises(MemoryLimitError) as info:
        restore_image(model, torch.rand(3, 150, 210), overlap=28, max_pixels=40 * 40)
    assert info.value.diagnostics[0].code == "E1524" and "--overlap" in (info.value.diagnostics[0].help or "")
