"""Restore user images of any size: whole-image inference (the network pads internally), or
overlapping tiles (`runtime.restore.tiles`: each with context, blended where they meet) for images too
large for memory; the network runs on its own device, the frame is assembled on the CPU. Optionally a
self-ensemble: the mean of the restorations of the 8 flips and rotations of the image, each turned
back (8x the time; usually a little higher PSNR, and not part of NAFNet's evaluation protocol)."""

from __future__ import annotations

import torch
from torch import nn

from archc.runtime.accel.memory import MemoryLimitError, out_of_memory_as_error
from archc.runtime.restore.tiles import min_tile, plan


def dihedral(image: torch.Tensor, k: int) -> torch.Tensor:
    """View k (0..7) of `... x H x W`: rotated by 90 degrees k % 4 times, then flipped left-right when k >= 4."""
    turned = torch.rot90(image, k % 4, dims=(-2, -1))
    return turned.flip(-1) if k >= 4 else turned


def undo_dihedral(image: torch.Tensor, k: int) -> torch.Tensor:
    """The inverse of `dihedral(., k)`."""
    unflipped = image.flip(-1) if k >= 4 else image
    return torch.rot90(unflipped, -(k % 4), dims=(-2, -1))


def _device(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def _run(model: nn.Module, patch: torch.Tensor) -> torch.Tensor:
    """The network on one `C x h x w` patch, on the model's device; the result back on the CPU."""
    return model(patch.unsqueeze(0).to(_device(model)))[0].float().cpu()


def _restore(model: nn.Module, image: torch.Tensor, tile: int | None, overlap: int) -> torch.Tensor:
    if tile is None or (image.shape[-2] <= tile and image.shape[-1] <= tile):
        return _run(model, image)
    _, h, w = image.shape
    out: torch.Tensor | None = None
    weight = torch.zeros(1, h, w)
    for rows, cols, win in plan(h, w, tile, overlap, int(getattr(model, "padder_size", 1))):
        restored = _run(model, image[:, rows, cols])
        if out is None:  # the network's output channels, which may differ from its input's
            out = torch.zeros(restored.shape[0], h, w)
        out[:, rows, cols] += restored * win
        weight[:, rows, cols] += win
    assert out is not None
    return out / weight


def budget_tile(pixels: int, max_pixels: int | None, align: int) -> int | None:
    """The tile side for a frame of `pixels` when at most `max_pixels` fit one pass (None: whole frame)."""
    if max_pixels is None or pixels <= max_pixels:
        return None
    return max(int(max_pixels**0.5) // align * align, align)


def restore_image(model: nn.Module, image: torch.Tensor, tile: int | None = None, overlap: int = 32, *,
                  ensemble: bool = False, max_pixels: int | None = None) -> torch.Tensor:
    """`C x H x W` in [0, 1] -> restored `C x H x W` clamped to [0, 1], on the CPU; with `ensemble`,
    the mean over the 8 flipped and rotated views, each restored and turned back.

    `tile`: restore in tiles of this side. Otherwise a frame of more than `max_pixels` pixels (the
    memory budget of one pass, see `runtime.accel.memory.frame_budget`) is tiled in squares of that area.
    Raises MemoryLimitError (E1522) when a pass runs out of memory, with a hint to tile smaller, and
    (E1524) when memory allows only tiles too small for `overlap`.
    """
    model.eval()
    align = int(getattr(model, "padder_size", 1))
    if tile is None:
        tile = budget_tile(image.shape[-2] * image.shape[-1], max_pixels, align)
        if tile is not None and tile < min_tile(overlap, align):
            raise MemoryLimitError(
                f"free memory allows tiles of {tile} pixels, too small for an overlap of {overlap} pixels",
                code="E1524",
                help=f"free memory, use another --accelerator, or pass a smaller --overlap (tiles need "
                f"{min_tile(overlap, align)} pixels at overlap {overlap})",
            )
    views = range(8) if ensemble else range(1)
    size = f"{image.shape[-1]}x{image.shape[-2]}"
    hint = (f"restore in smaller tiles (--tile {max((tile or 1024) // 2 // align * align, align)})"
            f" or on another --accelerator")
    with torch.inference_mode(), out_of_memory_as_error(f"restoring a {size} frame", _device(model), hint):
        total = undo_dihedral(_restore(model, dihedral(image, 0), tile, overlap), 0)
        for k in views[1:]:  # a running sum: one restored view in memory at a time
            total += undo_dihedral(_restore(model, dihedral(image, k), tile, overlap), k)
        return (total / len(views)).clamp(0, 1)
