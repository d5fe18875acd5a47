"""The network in forms ExecuTorch's XNNPACK partitioner delegates, for the `.pte` export only.

The partitioner (executorch 1.5) takes convolutions, element-wise ops, `mean` over height and width
of a 4-D tensor, `rsqrt`, `bmm`, `softmax` over the last dim, permutes and reshapes with at most one
inferred size; it takes no `native_layer_norm`, `sum`, `pow` but of 2, no channel `mean`, no slice
of a tensor with a dynamic size (`chunk`, `split_with_sizes`), no reshape to symbolic sizes, and no
`pixel_shuffle`. Every op it leaves out cuts the program into another delegated piece (each costs
preprocessing at conversion) and runs in ExecuTorch's portable kernels on the phone. Each form
below replaces one layer with the same function, built from ops it takes (outputs equal within
float rounding):

- `LayerNorm2d` and Restormer's `ChannelNorm` (a mean over channels, `pow`, `sqrt`, or
  `native_layer_norm`) -> `ConvChannelNorm`: the channel mean as a 1x1 conv C -> 1 with constant
  weights 1/C, `d = x - mean`, the variance as that conv of `d * d`, then `d * rsqrt(var + eps)`.
- SimpleGate's `chunk(2)` -> the convs feeding it split into halves (`split_simple_gate`, as for
  ONNX): no slice.
- Restormer's attention (`chunk(3)` of qkv, `F.normalize` of q and k: `linalg_vector_norm`, a
  `sum`) -> `ConvAttention`: q, k, v from the qkv convs split in thirds, and the L2 norm over the
  pixels as `sum = bmm(x * x, ones)` (the ones a 1x1 conv with zero weights and bias 1, so its
  size follows the input), then `x * rsqrt(max(sum, eps^2))`; the reshapes to `c x hw` infer the
  pixel count. The reshape of the product back to `c x h x w` needs both symbolic sizes, so it stays
  outside XNNPACK in a dynamic-size program (one view per attention; an int8 program, fixed size,
  is delegated whole).
- Restormer's gated feed-forward (`chunk(2)`) -> its convs split into halves, `gelu(a) * b`.
- `conv, PixelShuffle(r)` -> one transposed conv with stride r holding the conv's weights (same
  MACs); `conv, PixelUnshuffle(r)` -> one conv with stride r and kernel k + r - 1 (more MACs,
  (k + r - 1)^2 / k^2, but no `pixel_unshuffle` view).

The compiler's layers are matched here; a block's own layers (runtime/blocks/restormer.py) give
their form through an `xnnpack_form()` method, as the compiler does not import the runtime.
ONNX, LiteRT and training keep the layers as they are (in LiteRT the forms measured no faster:
benchmarks/pte_lowering_bench.py --litert).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .layers import LayerNorm2d
from .passes.split_simple_gate import split_simple_gate


def xnnpack_forms(model: nn.Module) -> nn.Module:
    """An eval-mode copy of `model` with every layer above in its XNNPACK form."""
    out = split_simple_gate(copy.deepcopy(model).eval())
    for parent in list(out.modules()):
        if isinstance(parent, nn.Sequential):
            _fold_shuffles(parent)
        for name, child in list(parent.named_children()):
            form = _form(child)
            if form is not None:
                setattr(parent, name, form)
    return out


def _form(module: nn.Module) -> nn.Module | None:
    if isinstance(module, LayerNorm2d):
        return ConvChannelNorm(module.channels, module.eps, module.weight, module.bias)
    make = getattr(module, "xnnpack_form", None)  # a block's own layers name their form
    return make() if callable(make) else None


def _mean_conv(channels: int) -> nn.Conv2d:
    """A 1x1 conv C -> 1 whose output is the mean over channels."""
    conv = nn.Conv2d(channels, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0 / channels)
    return conv.requires_grad_(False)


def _channel_view(p: torch.Tensor | None) -> torch.Tensor | None:
    return None if p is None else p.detach().reshape(1, -1, 1, 1).clone()


class ConvChannelNorm(nn.Module):
    """Per-pixel normalisation over channels: `b x c x h x w` in and out.

    `center`: `(x - mean) * rsqrt(var + eps)` (LayerNorm2d, Restormer's WithBias), else
    `x * rsqrt(var + eps)` (Restormer's BiasFree: the variance still taken around the mean);
    then `* weight + bias` where they are set.
    """

    def __init__(
        self,
        channels: int,
        eps: float,
        weight: torch.Tensor | None,
        bias: torch.Tensor | None,
        center: bool = True,
    ) -> None:
        super().__init__()
        self.mean = _mean_conv(channels)
        self.eps = eps
        self.center = center
        self.weight: torch.Tensor | None
        self.bias: torch.Tensor | None
        self.register_buffer("weight", _channel_view(weight))
        self.register_buffer("bias", _channel_view(bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x - self.mean(x)
        y = (d if self.center else x) * torch.rsqrt(self.mean(d * d) + self.eps)
        if self.weight is not None:
            y = y * self.weight
        return y if self.bias is None else y + self.bias


def conv_part(conv: nn.Conv2d, part: int, parts: int) -> nn.Conv2d:
    """The conv computing output channels [part * C/parts, (part + 1) * C/parts) of `conv` (a
    depthwise conv reads only those channels)."""
    out = conv.out_channels // parts
    depthwise = conv.groups == conv.in_channels == conv.out_channels
    new = nn.Conv2d(
        out if depthwise else conv.in_channels,
        out,
        conv.kernel_size,  # type: ignore[arg-type]
        conv.stride,  # type: ignore[arg-type]
        conv.padding,  # type: ignore[arg-type]
        conv.dilation,  # type: ignore[arg-type]
        groups=out if depthwise else 1,
        bias=conv.bias is not None,
    )
    rows = slice(part * out, (part + 1) * out)
    with torch.no_grad():
        new.weight.copy_(conv.weight[rows])
        if conv.bias is not None and new.bias is not None:
            new.bias.copy_(conv.bias[rows])
    return new


def conv_chains(first: nn.Conv2d, second: nn.Conv2d, parts: int) -> nn.ModuleList:
    """`second(first(x))` (second depthwise) as `parts` chains, one per slice of the channels."""
    return nn.ModuleList(nn.Sequential(conv_part(first, i, parts), conv_part(second, i, parts)) for i in range(parts))


def _fold_shuffles(seq: nn.Sequential) -> None:
    """`conv, PixelShuffle` / `conv, PixelUnshuffle` pairs of `seq` -> one conv each; in place."""
    mods = list(seq)
    for i in range(len(mods) - 1):
        conv, shuffle = mods[i], mods[i + 1]
        folded = _folded(conv, shuffle) if isinstance(conv, nn.Conv2d) else None
        if folded is not None:
            mods[i], mods[i + 1] = folded, nn.Identity()
    for i, m in enumerate(mods):
        seq[i] = m


def _folded(conv: nn.Conv2d, shuffle: nn.Module) -> nn.Module | None:
    plain = conv.stride == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
    k = conv.kernel_size[0]
    if not plain or conv.kernel_size != (k, k) or conv.padding != (k // 2, k // 2) or k % 2 == 0:
        return None
    if isinstance(shuffle, nn.PixelShuffle):
        return _shuffle_transposed(conv, shuffle.upscale_factor)
    if isinstance(shuffle, nn.PixelUnshuffle):
        return _unshuffle_conv(conv, shuffle.downscale_factor)
    return None


def _shuffle_transposed(conv: nn.Conv2d, r: int) -> nn.Module | None:
    """`PixelShuffle(r)(conv(x))` as one ConvTranspose2d: output pixel (r i + a, r j + b) of channel
    o is conv channel `o r^2 + a r + b` at (i, j), a k x k window around input pixel (i, j); that
    is tap `(a + r (k - 1 - u), ...)` of a transposed conv with kernel r k, stride r, padding
    r (k - 1) / 2. Only where the conv has no bias, or one bias per output channel (a transposed
    conv's bias cannot vary with a and b)."""
    k, cin, cout = conv.kernel_size[0], conv.in_channels, conv.out_channels // (r * r)
    w = conv.weight.detach().reshape(cout, r, r, cin, k, k)  # o, a, b, i, u, v
    bias = conv.bias.detach().reshape(cout, r * r) if conv.bias is not None else None
    if bias is not None and not torch.equal(bias, bias[:, :1].expand_as(bias)):
        return None
    new = nn.ConvTranspose2d(cin, cout, r * k, stride=r, padding=r * (k - 1) // 2, bias=bias is not None)
    with torch.no_grad():
        kernel = torch.zeros(cin, cout, r * k, r * k)
        for u in range(k):
            for v in range(k):
                rows, cols = r * (k - 1 - u), r * (k - 1 - v)
                kernel[:, :, rows : rows + r, cols : cols + r] = w[:, :, :, :, u, v].permute(3, 0, 1, 2)
        new.weight.copy_(kernel)
        if bias is not None and new.bias is not None:
            new.bias.copy_(bias[:, 0])
    return new


def _unshuffle_conv(conv: nn.Conv2d, r: int) -> nn.Conv2d:
    """`PixelUnshuffle(r)(conv(x))` as one conv with stride r: output channel `o r^2 + a r + b` at
    (i, j) is conv channel o at (r i + a, r j + b), the conv's k x k taps shifted by (a, b) in a
    kernel of k + r - 1, padding k // 2."""
    k, cin, cout = conv.kernel_size[0], conv.in_channels, conv.out_channels
    new = nn.Conv2d(cin, cout * r * r, k + r - 1, stride=r, padding=k // 2, bias=conv.bias is not None)
    with torch.no_grad():
        kernel = torch.zeros(cout, r, r, cin, k + r - 1, k + r - 1)
        for a in range(r):
            for b in range(r):
                kernel[:, a, b, :, a : a + k, b : b + k] = conv.weight
        new.weight.copy_(kernel.reshape(cout * r * r, cin, k + r - 1, k + r - 1))
        if conv.bias is not None and new.bias is not None:
            new.bias.copy_(conv.bias.repeat_interleave(r * r))
    return new
