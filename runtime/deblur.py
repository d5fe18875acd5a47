"""Restore user images of any size: whole-image inference (the network pads internally), or
overlapping tiles blended with a smooth window for images too large for memory."""

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


def restore_image(model: nn.Module, image: torch.Tensor, tile: int | None = None, overlap: int = 32) -> torch.Tensor:
    """`C x H x W` in [0, 1] -> restored `C x H x W` clamped to [0, 1]."""
    model.eval()
    with torch.inference_mode():
        if tile is None or (image.shape[-2] <= tile and image.shape[-1] <= tile):
            return model(image.unsqueeze(0))[0].clamp(0, 1)
        _, h, w = image.shape
        out = torch.zeros_like(image)
        weight = torch.zeros(1, h, w)
        for top in _starts(h, tile, overlap):
            for left in _starts(w, tile, overlap):
                patch = image[:, top:top + tile, left:left + tile]
                win = _window(patch.shape[-2], patch.shape[-1], overlap)
                out[:, top:top + tile, left:left + tile] += model(patch.unsqueeze(0))[0] * win
                weight[:, top:top + tile, left:left + tile] += win
        return (out / weight).clamp(0, 1)
