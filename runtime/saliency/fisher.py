"""Fisher (zero-cost-nas `fisher`, channel mode), with tensor hooks instead of the deprecated
module backward hooks.

For each scored layer with output a (`N x K x ...`) and delta = dL/da:
s_nk = sum over the spatial positions of a * delta, and the layer's value is
sum_k 1/2 * mean_n s_nk^2. zero-cost-nas copies each channel's value onto all in x kh x kw
weights of its filter before summing, which multiplies it by the fan-in; here channels are
summed once (the per-parameter normalisation divides by the size instead).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn


def channel_fisher(a: torch.Tensor, delta: torch.Tensor, channels_last: bool = False) -> float:
    """sum_k 1/2 mean_n (sum over positions of a * delta)_nk^2; a, delta: `N x K x ...` (conv)
    or, with `channels_last`, `N x ... x K` (Linear)."""
    prod = (a * delta).double()
    if channels_last:
        prod = prod.movedim(-1, 1)
    s = prod.flatten(2).sum(2) if prod.ndim > 2 else prod  # N x K
    return float(0.5 * s.pow(2).mean(0).sum())


@contextmanager
def fisher_hooks(layers: Mapping[str, nn.Module]) -> Iterator[dict[str, float]]:
    """While active, each backward pass adds every layer's Fisher value to the yielded dict."""
    values: dict[str, float] = defaultdict(float)

    def forward_hook(name: str, channels_last: bool) -> Callable[[nn.Module, object, torch.Tensor], None]:
        def hook(_: nn.Module, __: object, out: torch.Tensor) -> None:
            if not out.requires_grad:
                return
            act = out.detach()

            def on_grad(delta: torch.Tensor) -> None:
                values[name] += channel_fisher(act, delta, channels_last)

            out.register_hook(on_grad)

        return hook

    handles = [m.register_forward_hook(forward_hook(n, isinstance(m, nn.Linear))) for n, m in layers.items()]
    try:
        yield values
    finally:
        for h in handles:
            h.remove()
