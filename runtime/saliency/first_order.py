"""The first-order measures, computed together from one forward + backward pass per batch.

Per batch, with g = dL/dW for the weight W of each scored layer (Conv2d, Linear; biases are not
scored, as in zero-cost-nas):
- `grad_norm`: ||g||_2 per layer (a block sums its layers' norms, not a global norm);
- `snip`: sum |W * g| per layer (= |dL/dm| for an all-ones weight mask m);
- `fisher`: see `fisher.py` (needs activation hooks, so it is hooked in only when asked for);
- `taylor`: per block, t = sum_c (beta_c dL/dbeta_c + gamma_c dL/dgamma_c), the first-order
  estimate of the loss change when the block is removed (beta = gamma = 0); beta alone for
  blocks with only a beta; NaN for blocks without residual scales. Units square their summed t
  per batch (`measures.py`), so a slot's value estimates removing the whole slot.
Every value is one number per (name, batch); measures average over batches after aggregation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch
from attrs import frozen
from torch import nn

from .fisher import fisher_hooks
from .probe import Probe, Scored
from .residual import residual_scales

PerBatch = dict[str, np.ndarray]  # name -> one value per batch


@frozen
class GradView:
    """The copy right after one backward pass: weights carry `.grad`."""

    layers: Mapping[str, Scored]
    blocks: Mapping[str, nn.Module]
    fisher: Mapping[str, float]


def _weight_grad(m: Scored) -> torch.Tensor:
    g = m.weight.grad
    return torch.zeros_like(m.weight) if g is None else g


def grad_norm(view: GradView) -> dict[str, float]:
    return {n: float(_weight_grad(m).double().norm()) for n, m in view.layers.items()}


def snip(view: GradView) -> dict[str, float]:
    return {n: float((m.weight.detach() * _weight_grad(m)).double().abs().sum()) for n, m in view.layers.items()}


def fisher(view: GradView) -> dict[str, float]:
    return {n: float(view.fisher.get(n, 0.0)) for n in view.layers}


def _scale_taylor(scales: Sequence[nn.Parameter]) -> float:
    if not scales:
        return math.nan
    total = 0.0
    for p in scales:
        g = torch.zeros_like(p) if p.grad is None else p.grad
        total += float((p.detach() * g).double().sum())
    return total


def taylor(view: GradView) -> dict[str, float]:
    return {path: _scale_taylor(residual_scales(block)) for path, block in view.blocks.items()}


FORMULAS: dict[str, Callable[[GradView], dict[str, float]]] = {
    "grad_norm": grad_norm,
    "snip": snip,
    "fisher": fisher,
    "taylor": taylor,
}


def first_order(
    probe: Probe, names: Sequence[str], on_batch: Callable[[int], None] | None = None
) -> dict[str, PerBatch]:
    """The measures `names` (keys of FORMULAS) for every batch of the probe, from one forward and
    one backward pass per batch. Returns measure -> name -> `K` values."""
    layers = probe.layers()
    blocks = {p: probe.model.get_submodule(p) for p in probe.blocks}
    rows: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for k, (x, y) in enumerate(probe.batches):
        probe.model.zero_grad(set_to_none=True)
        hooks: AbstractContextManager[dict[str, float]] = fisher_hooks(layers) if "fisher" in names else nullcontext({})
        with hooks as stats:
            probe.loss(probe.model(x), y).backward()
        view = GradView(layers, blocks, dict(stats))
        for n in names:
            rows[n].append(FORMULAS[n](view))
        if on_batch is not None:
            on_batch(k + 1)
    probe.model.zero_grad(set_to_none=True)
    return {n: _stack(r) for n, r in rows.items()}


def _stack(rows: Sequence[Mapping[str, float]]) -> PerBatch:
    keys = rows[0].keys() if rows else ()
    return {key: np.array([r[key] for r in rows], dtype=np.float64) for key in keys}
