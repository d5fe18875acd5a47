"""An independent Restormer written from the facts (shared/facts/unet_families.md), used as the
reference that spec-built Restormers must equal. It shares no code with archc; its state_dict uses
the official key names (the facts list them), so official checkpoints load into it directly."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RefNorm(nn.Module):
    """LayerNorm over channels of the tokens `b x (h w) x c`, eps 1e-5; BiasFree skips the mean."""

    def __init__(self, c: int, with_bias: bool) -> None:
        super().__init__()
        self.body = nn.Module()
        self.body.weight = nn.Parameter(torch.ones(c))
        self.body.bias = nn.Parameter(torch.zeros(c)) if with_bias else None
        self.with_bias = with_bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)  # b x hw x c
        mu = t.mean(-1, keepdim=True)
        var = ((t - mu) ** 2).mean(-1, keepdim=True)
        if self.with_bias:
            t = (t - mu) / torch.sqrt(var + 1e-5) * self.body.weight + self.body.bias
        else:
            t = t / torch.sqrt(var + 1e-5) * self.body.weight
        return t.transpose(1, 2).reshape(b, c, h, w)


class RefAttention(nn.Module):
    def __init__(self, c: int, heads: int, bias: bool) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(c, 3 * c, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(3 * c, 3 * c, 3, padding=1, groups=3 * c, bias=bias)
        self.project_out = nn.Conv2d(c, c, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv_dwconv(self.qkv(x))
        q, k, v = (qkv[:, i * c:(i + 1) * c].reshape(b, self.heads, c // self.heads, h * w) for i in range(3))
        q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        k = k / k.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        logits = torch.einsum("bncs,bnds->bncd", q, k) * self.temperature
        out = torch.einsum("bncd,bnds->bncs", torch.softmax(logits, dim=-1), v)
        return self.project_out(out.reshape(b, c, h, w))


class RefFeedForward(nn.Module):
    def __init__(self, c: int, ffn: float, bias: bool) -> None:
        super().__init__()
        hidden = int(c * ffn)
        self.project_in = nn.Conv2d(c, 2 * hidden, 1, bias=bias)
        self.dwconv = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden, bias=bias)
        self.project_out = nn.Conv2d(hidden, c, 1, bias=bias)
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(self.project_in(x))
        return self.project_out(F.gelu(y[:, : self.hidden]) * y[:, self.hidden:])


class RefTransformerBlock(nn.Module):
    def __init__(self, c: int, heads: int, ffn: float, bias: bool, with_bias: bool) -> None:
        super().__init__()
        self.norm1 = RefNorm(c, with_bias)
        self.attn = RefAttention(c, heads, bias)
        self.norm2 = RefNorm(c, with_bias)
        self.ffn = RefFeedForward(c, ffn, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class RefRestormer(nn.Module):
    """Restormer(inp, out, dim, num_blocks, num_refinement_blocks, heads, ffn, bias, with_bias,
    dual_pixel): attributes registered in the official order, so keys and their order match."""

    def __init__(self, inp: int = 3, out: int = 3, dim: int = 48, num_blocks: tuple[int, ...] = (4, 6, 6, 8),
                 refinement: int = 4, heads: tuple[int, ...] = (1, 2, 4, 8), ffn: float = 2.66, bias: bool = False,
                 with_bias: bool = True, dual_pixel: bool = False) -> None:
        super().__init__()

        def stack(n: int, c: int, h: int) -> nn.Sequential:
            return nn.Sequential(*(RefTransformerBlock(c, h, ffn, bias, with_bias) for _ in range(n)))

        def down(n: int) -> nn.Module:
            m = nn.Module()
            m.body = nn.Sequential(nn.Conv2d(n, n // 2, 3, padding=1, bias=False), nn.PixelUnshuffle(2))
            return m

        def up(n: int) -> nn.Module:
            m = nn.Module()
            m.body = nn.Sequential(nn.Conv2d(n, 2 * n, 3, padding=1, bias=False), nn.PixelShuffle(2))
            return m

        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(inp, dim, 3, padding=1, bias=bias)
        self.encoder_level1 = stack(num_blocks[0], dim, heads[0])
        self.down1_2 = down(dim)
        self.encoder_level2 = stack(num_blocks[1], 2 * dim, heads[1])
        self.down2_3 = down(2 * dim)
        self.encoder_level3 = stack(num_blocks[2], 4 * dim, heads[2])
        self.down3_4 = down(4 * dim)
        self.latent = stack(num_blocks[3], 8 * dim, heads[3])
        self.up4_3 = up(8 * dim)
        self.reduce_chan_level3 = nn.Conv2d(8 * dim, 4 * dim, 1, bias=bias)
        self.decoder_level3 = stack(num_blocks[2], 4 * dim, heads[2])
        self.up3_2 = up(4 * dim)
        self.reduce_chan_level2 = nn.Conv2d(4 * dim, 2 * dim, 1, bias=bias)
        self.decoder_level2 = stack(num_blocks[1], 2 * dim, heads[1])
        self.up2_1 = up(2 * dim)
        self.decoder_level1 = stack(num_blocks[0], 2 * dim, heads[0])
        self.refinement = stack(refinement, 2 * dim, heads[0])
        self.dual_pixel = dual_pixel
        if dual_pixel:
            self.skip_conv = nn.Conv2d(dim, 2 * dim, 1, bias=bias)
        self.output = nn.Conv2d(2 * dim, out, 3, padding=1, bias=bias)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        e1_in = self.patch_embed.proj(img)
        e1 = self.encoder_level1(e1_in)
        e2 = self.encoder_level2(self.down1_2.body(e1))
        e3 = self.encoder_level3(self.down2_3.body(e2))
        lat = self.latent(self.down3_4.body(e3))
        d3 = self.decoder_level3(self.reduce_chan_level3(torch.cat([self.up4_3.body(lat), e3], 1)))
        d2 = self.decoder_level2(self.reduce_chan_level2(torch.cat([self.up3_2.body(d3), e2], 1)))
        d1 = self.refinement(self.decoder_level1(torch.cat([self.up2_1.body(d2), e1], 1)))
        if self.dual_pixel:
            return self.output(d1 + self.skip_conv(e1_in))
        return self.output(d1) + img
