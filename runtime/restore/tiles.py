"""Tiling a large frame so that a network restores it piece by piece with the whole frame's result.

Along each axis a frame of `length` pixels is cut into windows of at most `tile` pixels. Each
window keeps `overlap` pixels of context on every side that has a neighbour; only the rest of it
(its valid part) counts, and neighbouring valid parts overlap by at least `overlap // 2` pixels,
where they are blended with a raised-cosine ramp. Window starts are multiples of `align` (the
network's 2^levels) and the last window ends at the frame's edge, so every window sees the same
down-sampling grid and the same edge padding as the whole frame. For a network whose receptive
field reaches less than `overlap` pixels and which has no global operation (pooling over the
whole map), the tiled restoration therefore equals the whole frame's up to float rounding; with
global pooling (NAFNet's channel attention) it differs a little, and the blend hides seams.
"""

from __future__ import annotations

import torch
from attrs import frozen

from archc.errors import TileError


@frozen
class Window:
    """One window along an axis: pixels [start, stop), of which [valid_start, valid_stop) count."""

    start: int
    stop: int
    valid_start: int
    valid_stop: int


def min_tile(overlap: int, align: int = 1) -> int:
    """The smallest tile (a multiple of `align`) that holds `overlap` pixels of context on each side."""
    return -(-(2 * overlap + overlap // 2 + max(align, 1)) // align) * align


def _step(tile: int, overlap: int, align: int) -> int:
    step = (tile - 2 * overlap - overlap // 2) // align * align
    if step < max(align, 1):
        need = min_tile(overlap, align)
        raise TileError(
            f"a {tile}-pixel tile cannot hold an overlap of {overlap} pixels on each side",
            code="E1531",
            help=f"use a tile of at least {need} pixels, or less overlap",
        )
    return step


def windows(length: int, tile: int, overlap: int, align: int = 1) -> list[Window]:
    """The windows covering `length` pixels (one window when the frame fits in a tile)."""
    if length <= tile:
        return [Window(0, length, 0, length)]
    step = _step(tile, overlap, align)
    starts = [0]
    while starts[-1] + tile < length:
        starts.append(starts[-1] + step)
    out = []
    for i, start in enumerate(starts):
        stop = min(start + tile, length) if i + 1 < len(starts) else length
        out.append(Window(start, stop, start + overlap if i else 0, stop - overlap if i + 1 < len(starts) else stop))
    return out


def _ramp(n: int) -> torch.Tensor:
    """`n` raised-cosine values rising from just above 0 to just below 1."""
    return 0.5 - 0.5 * torch.cos(torch.linspace(0, torch.pi, n + 2)[1:-1])


def axis_weights(w: Window, blend: int, first: bool, last: bool) -> torch.Tensor:
    """The window's weights along one axis: 0 in its context, ramps at the blended ends, 1 elsewhere."""
    weights = torch.zeros(w.stop - w.start)
    lo, hi = w.valid_start - w.start, w.valid_stop - w.start
    weights[lo:hi] = 1.0
    k = min(blend, (hi - lo) // 2)
    if k > 0 and not first:
        weights[lo : lo + k] = _ramp(k)
    if k > 0 and not last:
        weights[hi - k : hi] = _ramp(k).flip(0)
    return weights


def plan(height: int, width: int, tile: int, overlap: int, align: int = 1) -> list[tuple[slice, slice, torch.Tensor]]:
    """Every window of an `height x width` frame: (rows, columns, `h x w` blend weights)."""
    rows, cols = windows(height, tile, overlap, align), windows(width, tile, overlap, align)
    blend = max(overlap // 2, 1)
    out = []
    for i, r in enumerate(rows):
        wr = axis_weights(r, blend, i == 0, i == len(rows) - 1)
        for j, c in enumerate(cols):
            wc = axis_weights(c, blend, j == 0, j == len(cols) - 1)
            out.append((slice(r.start, r.stop), slice(c.start, c.stop), wr[:, None] * wc[None, :]))
    return out
