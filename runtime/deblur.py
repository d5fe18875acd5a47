"""Restore user images of any size: whole-image inference (the network pads internally), or
overlapping tiles blended with a smooth window for images too large for memory. Optionally a
self-ensemble: the mean of the restorations of the 8 flips and rotations of the image, each turned
back (8x the time; usually a little higher PSNR, and not part of NAFNet's evaluation protocol)."""

from __future__ import annotations

import torch
from torch import nn


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return [*starts, length - tile]


def _window(h: int, w: int, overlap: int) -> torch.Tensor:
    """`1 x h x w` weights: 1 inside, a raised-cosine ramp over `overlap` pixels at each border."""

    def ramp(n: int) -> torch.Tensor:
        r = torch.ones(n)
        k = min(overlap, n // 2)
        if k > 0:
            edge = 0.5 - 0.5 * torch.cos(torch.linspace(0, torch.pi, k + 2)[1:-1])
            r[:k], r[n - k:] = edge, edge.flip(0)
        return r

    return (ramp(h)[:, None] * ramp(w)[None, :]).unsqueeze(0)


def dihedral(image: torch.Tensor, k: int) -> torch.Tensor:
    """View k (0..7) of `... x H x W`: rotated by 90 degrees k % 4 times, then flipped left-right when k >= 4."""
    turned = torch.rot90(image, k % 4, dims=(-2, -1))
    return turned.flip(-1) if k >= 4 else turned


def undo_dihedral(image: torch.Tensor, k: int) -> torch.Tensor:
    """The inverse of `dihedral(., k)`."""
    unflipped = image.flip(-1) if k >= 4 else image
    return torch.rot90(unflipped, -(k % 4), dims=(-2, -1))


def _restore(model: nn.Module, image: torch.Tensor, tile: int | None, overlap: int) -> torch.Tensor:
    if tile is None or (image.shape[-2] <= tile and image.shape[-1] <= tile):
        return model(image.unsqueeze(0))[0]
    _, h, w = image.shape
    out: torch.Tensor | None = None
    weight = torch.zeros(1, h, w)
    for top in _starts(h, tile, overlap):
        for left in _starts(w, tile, overlap):
            patch = image[:, top:top + tile, left:left + tile]
            win = _window(patch.shape[-2], patch.shape[-1], overlap)
            restored = model(patch.unsqueeze(0))[0]
            if out is None:  # the network's output channels, which may differ from its input's
                out = torch.zeros(restored.shape[0], h, w)
            out[:, top:top + tile, left:left + tile] += restored * win
            weight[:, top:top + tile, left:left + tile] += win
    assert out is not None
    return out / weight


def restore_image(model: nn.Module, image: torch.Tensor, tile: int | None = None, overlap: int = 32, *,
                  ensemble: bool = False) -> torch.Tensor:
    """`C x H x W` in [0, 1] -> restored `C x H x W` clamped to [0, 1]; with `ensemble`, the mean
    over the 8 flipped and rotated views, each restored and turned back."""
    model.eval()
    views = range(8) if ensemble else range(1)
    with torch.inference_mode():
        total = undo_dihedral(_restore(model, dihedral(image, 0), tile, overlap), 0)
        for k in views[1:]:  # a running sum: one restored view in memory at a time
            total += undo_dihedral(_restore(model, dihedral(image, k), tile, overlap), k)
        return (total / len(views)).clamp(0, 1)
