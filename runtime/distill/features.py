"""The teacher's features at slot boundaries, computed once and cached on disk.

Memory stays bounded: the teacher runs once over the fixed crops in batches, forward hooks copy
each slot's boundary maps straight into memory-mapped `.npy` files, and each surrogate job reads
random batches from those maps, so no process holds more than a batch of features (the page
cache holds what fits). Disk use per slot and split is `B x N x C x h x w` float32 values for B
boundaries: the slot's input and output at slot granularity (B = 2), the input and every block's
output at block granularity (B = blocks + 1). Each file is written to a temporary name and renamed, so a
killed run leaves either a whole cache or none.

The teacher runs in float32 on its own device, or on `device` when one is given (moved there for
the pass and back to the CPU after); the maps are copied back to the CPU as they are written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from attrs import frozen
from torch import nn

from archc.compiler.files import atomic_path
from archc.compiler.lower import ArchNet
from archc.dsl.spec import Slot, Spec
from archc.errors import DistillError
from archc.runtime.accel.memory import out_of_memory_as_error

from .crops import CropSet

SPLITS = ("train", "heldout")
FEATURE_BATCH = 8


@frozen
class SlotFeatures:
    """Cached teacher features of one slot, each `boundaries x N x C x h x w` float32, memory-mapped."""

    train: np.ndarray
    heldout: np.ndarray


def cached_offsets(slot: Slot, granularity: str) -> tuple[int, ...]:
    """The boundaries cached for a slot, as block offsets within it: 0 is the slot's input, i the
    output of its i-th block."""
    return tuple(range(slot.count + 1)) if granularity == "block" else (0, slot.count)


def boundary_index(granularity: str, offset: int) -> int:
    """Where the map at block `offset` of a slot (0 = its input) lies along a cached array's first axis."""
    return offset if granularity == "block" else (0 if offset == 0 else 1)


def feature_path(root: Path, slot: str, split: str) -> Path:
    return root / f"{slot}.{split}.npy"


def open_features(root: Path, slot: str) -> SlotFeatures:
    """Memory-map the cached features of `slot` (read-only)."""
    train, held = (np.load(feature_path(root, slot, s), mmap_mode="r") for s in SPLITS)
    return SlotFeatures(train, held)


def check_crop(model: ArchNet, crop: int) -> None:
    """Crops must need no padding, or the cached maps would not be the features of the crop."""
    if crop % model.padder_size:
        raise DistillError(
            f"--crop {crop} is not a multiple of {model.padder_size} (2^levels of the network)",
            code="E1107",
            help=f"use e.g. --crop {max(1, crop // model.padder_size) * model.padder_size}",
        )


def cache_features(
    model: ArchNet,
    spec: Spec,
    slots: Sequence[Slot],
    crops: dict[str, CropSet],
    root: Path,
    granularity: str,
    on_batch: Callable[[int, int], None] | None = None,
    device: torch.device | None = None,
) -> None:
    """Write `root/<slot>.<split>.npy` for every slot and split whose file is missing.

    `crops` maps each split name to its crop set. `on_batch(done, total)` follows the crops.
    `device`: where the teacher runs (default: where it is).
    """
    check_crop(model, next(iter(crops.values())).crop)
    todo = {split: [s for s in slots if not feature_path(root, s.name, split).exists()] for split in SPLITS}
    if not any(todo.values()):
        return
    with _placed(model, device):
        for split in SPLITS:
            if todo[split]:
                _cache_split(model, spec, todo[split], crops[split], root, split, granularity, on_batch)


@contextlib.contextmanager
def _placed(model: nn.Module, device: torch.device | None) -> Iterator[None]:
    """`model` on `device` for the block (nothing moves when `device` is None), back on the CPU after."""
    if device is None:
        yield
        return
    hint = f"a smaller --crop, or --accelerator cpu for the teacher's pass (it runs {FEATURE_BATCH} crops at a time)"
    try:
        with out_of_memory_as_error("the teacher's feature pass", device, hint):
            model.to(device)
            yield
    finally:
        model.to("cpu")


def _cache_split(
    model: ArchNet,
    spec: Spec,
    slots: Sequence[Slot],
    crops: CropSet,
    root: Path,
    split: str,
    granularity: str,
    on_batch: Callable[[int, int], None] | None,
) -> None:
    with contextlib.ExitStack() as stack:
        maps = {
            s.name: _open_map(
                stack, spec, s, len(cached_offsets(s, granularity)), crops, feature_path(root, s.name, split)
            )
            for s in slots
        }
        position = [0, 0]  # [first, stop) of the batch being written, read by the hooks
        for slot in slots:
            _hook(
                stack,
                model.stage_module(slot.stage),
                slot,
                cached_offsets(slot, granularity),
                maps[slot.name],
                position,
            )
        model.eval()
        device = next(model.parameters()).device
        with torch.inference_mode():
            for first, blur in crops.batches(FEATURE_BATCH):
                position[:] = [first, first + blur.shape[0]]
                model(blur.to(device))
                if on_batch is not None:
                    on_batch(position[1], crops.count)
        for array in maps.values():
            array.flush()


def _open_map(
    stack: contextlib.ExitStack, spec: Spec, slot: Slot, boundaries: int, crops: CropSet, path: Path
) -> np.memmap:
    stage = spec.stage(slot.stage)
    size = crops.crop >> stage.level
    tmp = stack.enter_context(atomic_path(path))
    shape = (boundaries, crops.count, stage.channels, size, size)
    return np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)


def _hook(
    stack: contextlib.ExitStack,
    seq: nn.Sequential,
    slot: Slot,
    offsets: Sequence[int],
    out: np.ndarray,
    position: list[int],
) -> None:
    """Copy the slot's input (offset 0) and the output of block start + o - 1 (offset o) into `out`."""

    def write(boundary: int, x: torch.Tensor) -> None:
        out[boundary, position[0] : position[1]] = x.detach().float().cpu().numpy()

    handles = [seq[slot.start].register_forward_pre_hook(lambda m, args: write(0, args[0]))]
    for b, offset in enumerate(offsets[1:], start=1):
        handles.append(seq[slot.start + offset - 1].register_forward_hook(lambda m, args, y, b=b: write(b, y)))  # type: ignore[misc]
    stack.callback(_remove, handles)


def _remove(handles: Sequence[torch.utils.hooks.RemovableHandle]) -> None:
    for h in handles:
        h.remove()


def batch_of(
    features: np.ndarray, boundaries: tuple[int, int], index: np.ndarray | slice
) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, target) maps of the crops at `index`: `B x C x h x w` float32 tensors each."""
    b_in, b_out = boundaries
    return torch.from_numpy(np.array(features[b_in, index])), torch.from_numpy(np.array(features[b_out, index]))


def in_order(
    features: np.ndarray, boundaries: tuple[int, int], batch: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(input, target) batches over every crop, in index order."""
    for first in range(0, features.shape[1], batch):
        yield batch_of(features, boundaries, slice(first, first + batch))
