"""restormer: Restormer's TransformerBlock (state_dict keys and numerics as in the official class).

    x -> x + attn(norm1(x)) -> y + ffn(norm2(y))

`attn` is MDTA (multi-Dconv head transposed attention): attention between channels, not pixels,
so its cost grows linearly with h x w. `ffn` is the gated-dconv feed-forward (GDFN).

Each layer names its form for the `.pte` export (`xnnpack_form`, see compiler/xnnpack_forms.py):
`ConvAttention` and `SplitFeedForward` compute the same without channel slices or a `sum`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from archc.compiler.blocks.schemas.restormer import RestormerParams, hidden_width, restormer_macs
from archc.compiler.xnnpack_forms import ConvChannelNorm, conv_chains

__all__ = ["Attention", "ChannelNorm", "FeedForward", "RestormerParams", "TransformerBlock", "build",
           "restormer_macs"]


class _Affine(nn.Module):
    """The norm's parameters, under the official `body.weight` / `body.bias` keys."""

    def __init__(self, channels: int, with_bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels)) if with_bias else None


class ChannelNorm(nn.Module):
    """Per-pixel normalisation over channels, eps 1e-5: `b x c x h x w` in and out.

    WithBias: `(x - mean) / sqrt(var + eps) * w + b`. BiasFree: `x / sqrt(var + eps) * w`, where the
    variance is still taken around the mean but the mean is not subtracted (as in the original).
    """

    def __init__(self, channels: int, with_bias: bool = True) -> None:
        super().__init__()
        self.body = _Affine(channels, with_bias)
        self.channels = channels
        self.eps = 1e-5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.body.weight, self.body.bias
        if bias is not None:  # one fused LayerNormalization in ONNX (between two transposes)
            y = F.layer_norm(x.permute(0, 2, 3, 1), (self.channels,), weight, bias, self.eps)
            return y.permute(0, 3, 1, 2)
        var = x.var(1, keepdim=True, unbiased=False)
        return x / torch.sqrt(var + self.eps) * weight.view(1, -1, 1, 1)

    def xnnpack_form(self) -> nn.Module:
        bias = self.body.bias
        return ConvChannelNorm(self.channels, self.eps, self.body.weight, bias, center=bias is not None)


class Attention(nn.Module):
    """MDTA: q, k, v from a 1x1 then a 3x3 depthwise conv; per head, softmax over the channel x
    channel map of L2-normalised q and k (`b x heads x c/heads x h*w`), scaled by `temperature`."""

    def __init__(self, c: int, heads: int, bias: bool) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(c, 3 * c, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(3 * c, 3 * c, 3, padding=1, groups=3 * c, bias=bias)
        self.project_out = nn.Conv2d(c, c, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[0], x.shape[1]
        q, k, v = (t.reshape(b, self.heads, c // self.heads, -1)
                   for t in self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.temperature).softmax(dim=-1)
        return self.project_out((attn @ v).reshape(x.shape))

    def xnnpack_form(self) -> nn.Module:
        return ConvAttention(self)


class FeedForward(nn.Module):
    """GDFN: 1x1 to 2 x hidden, 3x3 depthwise, gelu(first half) x second half, 1x1 back."""

    def __init__(self, c: int, hidden: int, bias: bool) -> None:
        super().__init__()
        self.project_in = nn.Conv2d(c, 2 * hidden, 1, bias=bias)
        self.dwconv = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden, bias=bias)
        self.project_out = nn.Conv2d(hidden, c, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(x1) * x2)

    def xnnpack_form(self) -> nn.Module:
        return SplitFeedForward(self)


class ConvAttention(nn.Module):
    """Restormer's MDTA without channel slices or a `sum`: `b x c x h x w` in and out."""

    def __init__(self, attn: Attention) -> None:
        super().__init__()
        self.heads = attn.heads
        self.qkv = conv_chains(attn.qkv, attn.qkv_dwconv, 3)
        self.project_out = attn.project_out
        self.temperature = attn.temperature
        c = attn.project_out.in_channels
        self.ones = nn.Conv2d(c, attn.heads, 1)  # zero weights, bias 1: ones at the input's size
        with torch.no_grad():
            self.ones.weight.zero_()
            self.ones.bias.fill_(1.0)  # type: ignore[union-attr]
        self.ones.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h = x.shape[0], x.shape[1], self.heads
        ones = self.ones(x).reshape(b * h, -1, 1)  # (b heads) x hw x 1
        q, k, v = (chain(x).reshape(b * h, c // h, -1) for chain in self.qkv)
        q, k = _l2_normalised(q, ones), _l2_normalised(k, ones)
        attn = (torch.bmm(q, k.transpose(1, 2)).reshape(b, h, c // h, c // h) * self.temperature).softmax(dim=-1)
        out = torch.bmm(attn.reshape(b * h, c // h, c // h), v)
        return self.project_out(out.reshape(x.shape))


def _l2_normalised(t: torch.Tensor, ones: torch.Tensor) -> torch.Tensor:
    """`F.normalize(t, dim=-1)` (eps 1e-12) of a `n x r x p` tensor, `ones` being `n x p x 1`."""
    squares = torch.bmm(t * t, ones)  # n x r x 1
    return t * torch.rsqrt(torch.clamp(squares, min=1e-24))


class SplitFeedForward(nn.Module):
    """Restormer's GDFN with the gate's halves from split convs: `b x c x h x w` in and out."""

    def __init__(self, ffn: FeedForward) -> None:
        super().__init__()
        self.halves = conv_chains(ffn.project_in, ffn.dwconv, 2)
        self.project_out = ffn.project_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project_out(F.gelu(self.halves[0](x)) * self.halves[1](x))


class TransformerBlock(nn.Module):
    """`b x c x h x w` in and out; children registered in the official order (norm1, attn, norm2, ffn).

    Both branches end in a zero-initialised `project_out`, so a fresh block is the identity, as every
    archc block is (NAFNet's residual scales start at zero): a surrogate starts from the skip path.
    The official class has no residual scale to zero, and a checkpoint overwrites this start anyway.
    """

    def __init__(self, c: int, p: RestormerParams) -> None:
        super().__init__()
        self.norm1 = ChannelNorm(c, p.norm == "withbias")
        self.attn = Attention(c, p.heads, p.bias)
        self.norm2 = ChannelNorm(c, p.norm == "withbias")
        self.ffn = FeedForward(c, hidden_width(p, c), p.bias)
        for conv in (self.attn.project_out, self.ffn.project_out):
            nn.init.zeros_(conv.weight)
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


def build(p: RestormerParams, c: int) -> nn.Module:
    return TransformerBlock(c, p)
