"""split_simple_gate: SimpleGate's channel Split removed by splitting the convs that feed it.

SimpleGate returns `x[:, :C] * x[:, C:]` for a 2C-channel x. When x is made by a conv (W, c)
followed by per-channel (depthwise) convs, each output half depends only on its own half of the
rows: with W = [W_a; W_b], c = [c_a; c_b] and each depthwise conv D = [D_a; D_b],

    sg(D(W x + c)) = D_a(W_a x + c_a) * D_b(W_b x + c_b)

so the chain becomes two chains of half width whose outputs multiply (`GatedPair`), and the
gate itself becomes the identity. Same MACs, no Split/Slice. On a phone NPU a channel split is a
copy of the tensor (the modelled `s24` puts NAFNet-w32's 72 gate Slices at 28 of 187 ms at
1280x720). In ONNX Runtime a channel Split is not a blocked-layout (NCHWc) op, so every gate cost
a ReorderOutput + Split + ReorderInput; a Mul of two NCHWc tensors stays blocked when their shapes
are known (`symbolic_shapes`). The cost there: the LayerNorm output now feeds two convs, and ONNX
Runtime then keeps the Transpose after the LayerNorm instead of folding it into its ReorderInput
(72 Transposes on NAFNet-w32), which eats most of the gain on CPU. Rewritten on the torch module
because the block declares its gate chains (`GATE_CHAINS`); all chains of a block are split or
none (the gate module is shared).
"""

from __future__ import annotations

import torch
from torch import nn

from .base import Pass, blocks_declaring, is_depthwise


class GatedPair(nn.Module):
    """`first(x) * second(x)`: a SimpleGate whose two halves are computed by separate chains."""

    def __init__(self, first: nn.Module, second: nn.Module) -> None:
        super().__init__()
        self.first = first
        self.second = second

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.first(x) * self.second(x)


def half_conv(conv: nn.Conv2d, part: int) -> nn.Conv2d:
    """The conv computing output channels [part * C/2, (part + 1) * C/2) of `conv`."""
    out = conv.out_channels // 2
    depthwise = is_depthwise(conv)
    new = nn.Conv2d(
        out if depthwise else conv.in_channels, out, conv.kernel_size, conv.stride, conv.padding,  # type: ignore[arg-type]
        conv.dilation, groups=out if depthwise else 1, bias=conv.bias is not None,  # type: ignore[arg-type]
        padding_mode=conv.padding_mode,
    )
    rows = slice(part * out, (part + 1) * out)
    with torch.no_grad():
        new.weight.copy_(conv.weight[rows])
        if conv.bias is not None and new.bias is not None:
            new.bias.copy_(conv.bias[rows])
    return new.to(conv.weight.device, conv.weight.dtype)


def _splittable(chain: list[nn.Module]) -> bool:
    head, rest = chain[0], chain[1:]
    return (
        isinstance(head, nn.Conv2d) and head.groups == 1 and head.out_channels % 2 == 0
        and all(is_depthwise(m) for m in rest)
    )


def _split_chain(block: nn.Module, names: tuple[str, ...]) -> None:
    chain = [getattr(block, n) for n in names]
    halves = [nn.Sequential(*(half_conv(m, part) for m in chain)) for part in (0, 1)]
    first, second = (h[0] if len(h) == 1 else h for h in halves)
    setattr(block, names[0], GatedPair(first, second))
    for name in names[1:]:
        setattr(block, name, nn.Identity())


def split_simple_gate(model: nn.Module) -> nn.Module:
    """Every block declaring GATE_CHAINS: chains split into GatedPairs, `sg` -> Identity; in place."""
    for block in blocks_declaring(model, "GATE_CHAINS"):
        chains: tuple[tuple[str, ...], ...] = type(block).GATE_CHAINS  # type: ignore[attr-defined]
        if not all(_splittable([getattr(block, n) for n in names]) for names in chains):
            continue
        for names in chains:
            _split_chain(block, names)
        block.sg = nn.Identity()
    return model


PASS = Pass("split_simple_gate", split_simple_gate, ("onnx",),
            "SimpleGate's Split -> the feeding convs split in halves, then one Mul")
