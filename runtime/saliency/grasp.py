"""GraSP as zero-cost-nas scores it: -W * (H g) per scored weight, summed per layer (signed).

Per batch: g = dL/dW over the weights W of all scored layers (Conv2d, Linear), H the Hessian of
L with respect to those weights, so H g = d/dW (sum stopgrad(g) * dL/dW). zero-cost-nas runs two
forward passes on the same batch (one for g, one with create_graph); with a deterministic
network one pass with create_graph gives the same g, so one is used. Temperature 1 (the
temperature divides classification logits and has no counterpart for a restoration output).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .first_order import PerBatch
from .probe import Probe


def _batch_grasp(probe: Probe, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    layers = probe.layers()
    weights: list[torch.Tensor] = [m.weight for m in layers.values()]
    loss = probe.loss(probe.model(x), y)
    grads = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = torch.zeros((), device=loss.device)
    for g in grads:
        if g is not None:
            z = z + (g.detach() * g).sum()
    if not z.requires_grad:  # no second-order path (e.g. every gradient is constant)
        return dict.fromkeys(layers, 0.0)
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return {
        n: 0.0 if h is None else float(-(w.detach() * h).double().sum())
        for (n, w), h in zip(zip(layers, weights, strict=True), hg, strict=True)
    }


def grasp(probe: Probe, on_batch: Callable[[int], None] | None = None) -> PerBatch:
    """Layer name -> `K` GraSP values, one per batch."""
    rows = []
    for k, (x, y) in enumerate(probe.batches):
        rows.append(_batch_grasp(probe, x, y))
        if on_batch is not None:
            on_batch(k + 1)
    return {n: np.array([r[n] for r in rows], dtype=np.float64) for n in rows[0]}
