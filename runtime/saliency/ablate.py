"""Ground truth for the proxies: remove each block (and each slot) in turn and measure the drop.

A unit is removed by putting `nn.Identity` in place of each of its blocks, on a private copy.
For a block with residual scales this is exactly setting beta = gamma = 0 (the block becomes
x -> x), and it also removes blocks that have no scales. The drop is the mean PSNR of the
intact network minus that of the ablated one, over the validation images, scored as saved
8-bit images (`archc.runtime.evaluation.metrics.psnr`): positive = the unit matters. Each proxy is then
compared with the drops by Spearman's rank correlation across units of one kind.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from attrs import frozen
from scipy.stats import spearmanr
from torch import nn

from archc.runtime.evaluation.metrics import psnr

from .probe import Batch
from .score import NORMS, UnitScore
from .units import Unit

BASELINES = ("params", "macs")


@frozen
class Ablation:
    images: int
    base_psnr: float  # dB, intact network
    drops: dict[str, float]  # unit name (block or slot) -> base PSNR - PSNR without it (dB)
    seconds: float


@frozen
class Correlation:
    rho: float  # NaN when undefined (a constant column, fewer than 3 finite pairs)
    n: int  # units with a finite score and drop


@contextmanager
def removed(model: nn.Module, paths: Sequence[str]) -> Iterator[nn.Module]:
    """`model` with the modules at `paths` replaced by identity; restored on exit."""
    saved = []
    for path in paths:
        parent, _, leaf = path.rpartition(".")
        owner = model.get_submodule(parent)
        saved.append((owner, leaf, owner.get_submodule(leaf)))
        setattr(owner, leaf, nn.Identity())
    try:
        yield model
    finally:
        for owner, leaf, module in reversed(saved):
            setattr(owner, leaf, module)


def mean_psnr(model: nn.Module, images: Sequence[Batch], batch: int = 8) -> float:
    """Mean 8-bit PSNR (dB) of `model` on `images` ((blur, sharp) pairs, each `1 x 3 x h x w`);
    equal-sized neighbours run together, `batch` at a time."""
    scores: list[float] = []
    i = 0
    with torch.inference_mode():
        while i < len(images):
            shape = images[i][0].shape
            j = i
            while j < len(images) and j - i < batch and images[j][0].shape == shape:
                j += 1
            blur = torch.cat([b for b, _ in images[i:j]])
            out = model(blur).clamp(0, 1)
            scores += [psnr(o, s[0]) for o, (_, s) in zip(out, images[i:j], strict=True)]
            i = j
    return float(np.mean(scores))


def ablate(
    model: nn.Module,
    units: Sequence[Unit],
    images: Sequence[Batch],
    *,
    batch: int = 8,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> Ablation:
    """The PSNR drop of removing each of `units` (see module docstring); units covering the same
    blocks are measured once. `model` is not modified."""
    start = time.perf_counter()
    twin = copy.deepcopy(model).to(device).eval()
    moved = [(x.to(device), y.to(device)) for x, y in images]
    base = mean_psnr(twin, moved, batch)
    distinct = list(dict.fromkeys(u.modules for u in units))
    psnrs: dict[tuple[str, ...], float] = {}
    for k, paths in enumerate(distinct):
        with removed(twin, paths):
            psnrs[paths] = mean_psnr(twin, moved, batch)
        if progress is not None:
            progress(k + 1, len(distinct))
    drops = {u.name: base - psnrs[u.modules] for u in units}
    return Ablation(len(images), base, drops, time.perf_counter() - start)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> Correlation:
    """Spearman's rho over the pairs where both values are finite (NaN when undefined)."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(x) and math.isfinite(y)]
    if len(pairs) < 3 or len({x for x, _ in pairs}) < 2 or len({y for _, y in pairs}) < 2:
        return Correlation(math.nan, len(pairs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = spearmanr([x for x, _ in pairs], [y for _, y in pairs]).statistic
    return Correlation(float(rho), len(pairs))


def correlations(scores: Sequence[UnitScore], drops: dict[str, float]) -> dict[str, dict[str, Correlation]]:
    """metric -> normalisation -> Spearman with the drops, plus `params` and `macs` (as `sum`)."""
    y = [drops[s.unit.name] for s in scores]
    metrics = list(scores[0].sums) if scores else []
    out = {m: {norm: spearman([s.value(m, norm) for s in scores], y) for norm in NORMS} for m in metrics}
    for base in BASELINES:
        out[base] = {"sum": spearman([float(getattr(s, base)) for s in scores], y)}
    return out
