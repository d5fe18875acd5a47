"""The XNNPACK forms (compiler/xnnpack_forms.py): each equals the layer it replaces on random inputs
of several sizes, and so do whole tiny networks. That the `.pte` of the forms is delegated to
XNNPACK (but for Restormer's reshape) and runs like torch is tested in test_phone_export.py."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archc
from archc.compiler.layers import LayerNorm2d
from archc.compiler.mobile import prepared
from archc.compiler.xnnpack_forms import ConvChannelNorm, xnnpack_forms
from archc.runtime.blocks.restormer import Attention, ChannelNorm, FeedForward

from helpers import SPECS

SIZES = ((8, 8), (16, 24), (40, 16))
TOLERANCE = 1e-5


def _moved(module: nn.Module, scale: float = 0.3) -> nn.Module:
    """`module` in eval mode with every weight moved off its initial value."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return module.eval()


def _same(layer: nn.Module, form: nn.Module, channels: int) -> None:
    for i, (h, w) in enumerate(SIZES):
        x = 2 * torch.randn(2, channels, h, w, generator=torch.Generator().manual_seed(i)) + 0.5
        with torch.no_grad():
            ref, got = layer(x), form(x)
        assert got.shape == ref.shape
        assert (got - ref).abs().max().item() < TOLERANCE, (type(layer).__name__, (h, w))


@pytest.mark.parametrize("affine", [True, False])
def test_the_conv_channel_norm_equals_layernorm2d(affine: bool) -> None:
    norm = _moved(LayerNorm2d(12))
    if not affine:  # as fold_layernorm_affine leaves it
        norm.weight = norm.bias = None
    form = xnnpack_forms(nn.Sequential(norm))[0]
    assert isinstance(form, ConvChannelNorm)
    _same(norm, form, 12)


@pytest.mark.parametrize("with_bias", [True, False])
def test_the_conv_channel_norm_equals_restormers_norms(with_bias: bool) -> None:
    norm = _moved(ChannelNorm(16, with_bias))
    _same(norm, norm.xnnpack_form(), 16)


@pytest.mark.parametrize(("c", "heads", "bias"), [(8, 1, False), (16, 4, True)])
def test_the_conv_attention_equals_mdta(c: int, heads: int, bias: bool) -> None:
    attn = _moved(Attention(c, heads, bias))
    _same(attn, attn.xnnpack_form(), c)


def test_the_split_feed_forward_equals_gdfn() -> None:
    ffn = _moved(FeedForward(8, 21, False))
    _same(ffn, ffn.xnnpack_form(), 8)


@pytest.mark.parametrize("up", [True, False])
@pytest.mark.parametrize(("k", "bias"), [(1, False), (3, False), (3, True)])
def test_a_conv_and_its_pixel_shuffle_fold_into_one_conv(up: bool, k: int, bias: bool) -> None:
    shuffle = nn.PixelShuffle(2) if up else nn.PixelUnshuffle(2)
    pair = _moved(nn.Sequential(nn.Conv2d(6, 8, k, padding=k // 2, bias=bias), shuffle))
    if up and bias:  # one bias per output channel of the shuffle, as a transposed conv has
        with torch.no_grad():
            pair[0].bias.copy_(pair[0].bias[::4].repeat_interleave(4))
    form = xnnpack_forms(pair)
    assert not any(isinstance(m, (nn.PixelShuffle, nn.PixelUnshuffle)) for m in form.modules())
    _same(pair, form, 6)


def test_a_shuffle_whose_bias_varies_within_a_pixel_block_stays() -> None:
    pair = _moved(nn.Sequential(nn.Conv2d(6, 8, 1, bias=True), nn.PixelShuffle(2)))
    form = xnnpack_forms(pair)
    assert isinstance(form[1], nn.PixelShuffle)
    _same(pair, form, 6)


@pytest.mark.parametrize("name", ["nafnet_tiny", "baseline_tiny", "restormer_tiny"])
def test_every_tiny_network_keeps_its_outputs(name: str) -> None:
    model = prepared(_moved(archc.build(SPECS / f"{name}.arch"), 0.1))
    form = xnnpack_forms(model)
    for size in ((32, 32), (48, 16)):
        x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(size[1]))
        with torch.no_grad():
            ref = model(x)
            assert (form(x) - ref).abs().max().item() < TOLERANCE * max(1.0, ref.abs().max().item())
