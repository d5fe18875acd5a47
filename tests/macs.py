"""An independent MAC counter: forward hooks on every Conv2d and ConvTranspose2d (the conv-only rule;
a transposed conv counts input elements x out_channels/groups x kh x kw, each input pixel's scatter)."""

from __future__ import annotations

import torch
from torch import nn


def hook_macs(model: nn.Module, x: torch.Tensor) -> int:
    total = 0

    def hook(m: nn.Conv2d, _: object, out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() * (m.in_channels // m.groups) * kh * kw

    def transposed(m: nn.ConvTranspose2d, inp: tuple[torch.Tensor, ...], _: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += inp[0].numel() * (m.out_channels // m.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    handles += [m.register_forward_hook(transposed) for m in model.modules() if isinstance(m, nn.ConvTranspose2d)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total
