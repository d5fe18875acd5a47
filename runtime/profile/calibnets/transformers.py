"""Transformer and hybrid classifiers of AI Hub with published Snapdragon 8 Gen 3 latencies
(shared/facts/s24_calibration.md section 3, "Transformer and LayerNorm reference points"), rebuilt
from their papers' layer configurations so the cost model sees attention: MatMul of two
activations, Softmax, LayerNorm over tokens and the reshapes between feature maps and tokens.

- ViT-B/16 (torchvision `vit_b_16`, 224 x 224): patch 16 conv, class token, 12 pre-norm blocks of
  12-head attention and a 3072-wide GELU MLP.
- BEiT-base/16 (`microsoft/beit-base-patch16-224`, 224 x 224): ViT-B with a relative position bias
  per layer (a constant gathered from a table), layer scale, no k bias, mean-pooled head.
- MobileViT-S (`apple/mobilevit-small`, profiled at 256 x 256 as its model.py says): MobileNetV2
  blocks and three MobileViT blocks (unfold into 2 x 2 patches, 2 / 4 / 3 transformer layers at
  widths 144 / 192 / 240, 4 heads, fold back, fuse).
- EfficientFormer-L1 (snap-research, 224 x 224): pooling "Meta4D" blocks at 48 / 96 / 224 / 448
  channels and one attention "Meta3D" block at 7 x 7 (8 heads, key 32, value 128, attention bias).

Workloads are traced small and frozen at their published size (`workload.py`), so position
embeddings and attention biases are cut to the traced token count: only their shapes reach a
latency figure, and at the published size nothing is cut.
"""

from __future__ import annotations

import torch
from torch import nn

from .backbones import inverted_residual
from .layers import conv, conv_bn


class SelfAttention(nn.Module):
    """`b x n x d` -> multi-head attention -> `b x n x d` (q, k, v from one Linear)."""

    def __init__(
        self,
        d: int,
        heads: int,
        key: int | None = None,
        value: int | None = None,
        bias: torch.Tensor | None = None,
        qkv_bias: bool = True,
    ) -> None:
        super().__init__()
        self.heads, self.key = heads, key or d // heads
        self.value = value or self.key
        self.qkv = nn.Linear(d, heads * (2 * self.key + self.value), bias=qkv_bias)
        self.proj = nn.Linear(heads * self.value, d)
        self.bias = bias  # `heads x n x n` added to the logits, or None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).view(b, n, self.heads, -1).split([self.key, self.key, self.value], dim=3)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        logits = (q @ k.transpose(-2, -1)) * self.key**-0.5
        if self.bias is not None:
            logits = logits + self.bias[:, :n, :n]
        out = logits.softmax(-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, -1))


def mlp(d: int, hidden: int, act: type[nn.Module] = nn.GELU) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d, hidden), act(), nn.Linear(hidden, d))


class Encoder(nn.Module):
    """Pre-norm transformer layer: x + s1 * attn(LN(x)); x + s2 * mlp(LN(x))."""

    def __init__(
        self,
        d: int,
        attn: nn.Module,
        hidden: int,
        eps: float = 1e-6,
        act: type[nn.Module] = nn.GELU,
        layer_scale: bool = False,
    ) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(d, eps=eps), attn
        self.norm2, self.mlp = nn.LayerNorm(d, eps=eps), mlp(d, hidden, act)
        self.s1 = nn.Parameter(torch.full((d,), 0.1)) if layer_scale else None
        self.s2 = nn.Parameter(torch.full((d,), 0.1)) if layer_scale else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, m = self.attn(self.norm1(x)), None
        x = x + (a * self.s1 if self.s1 is not None else a)
        m = self.mlp(self.norm2(x))
        return x + (m * self.s2 if self.s2 is not None else m)


class PatchTokens(nn.Module):
    """Patch conv -> tokens, a class token in front (+ a learned position embedding)."""

    def __init__(self, d: int, patch: int, tokens: int, position: bool) -> None:
        super().__init__()
        self.proj = conv(3, d, patch, patch, padding=0)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.zeros(1, tokens + 1, d)) if position else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.proj(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], 1)
        return t + self.pos[:, : t.shape[1]] if self.pos is not None else t


class ViT(nn.Module):
    def __init__(self, d: int = 768, depth: int = 12, heads: int = 12, patch: int = 16, size: int = 224) -> None:
        super().__init__()
        n = (size // patch) ** 2
        self.embed = PatchTokens(d, patch, n, position=True)
        self.blocks = nn.Sequential(*(Encoder(d, SelfAttention(d, heads), 4 * d) for _ in range(depth)))
        self.norm, self.head = nn.LayerNorm(d, eps=1e-6), nn.Linear(d, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.blocks(self.embed(x)))[:, 0])


class RelativeBias(nn.Module):
    """BEiT's relative position bias: a `(2s-1)^2 + 3` x heads table gathered to `heads x n x n`."""

    def __init__(self, side: int, heads: int) -> None:
        super().__init__()
        coords = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + side - 1
        n, span = side * side, 2 * side - 1
        index = torch.zeros(n + 1, n + 1, dtype=torch.long)
        index[1:, 1:] = rel[..., 0] * span + rel[..., 1]
        index[0, :], index[:, 0], index[0, 0] = span * span, span * span + 1, span * span + 2
        self.table = nn.Parameter(torch.zeros(span * span + 3, heads))
        self.register_buffer("index", index.flatten(), persistent=False)
        self.shape = (n + 1, n + 1, heads)

    def forward(self) -> torch.Tensor:
        return self.table[self.get_buffer("index")].view(*self.shape).permute(2, 0, 1)


class BeitAttention(SelfAttention):
    def __init__(self, d: int, heads: int, side: int) -> None:
        super().__init__(d, heads, qkv_bias=False)
        self.q_bias, self.v_bias = nn.Parameter(torch.zeros(d)), nn.Parameter(torch.zeros(d))
        self.relative = RelativeBias(side, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.bias = self.relative()
        return super().forward(x)


class BEiT(nn.Module):
    def __init__(self, d: int = 768, depth: int = 12, heads: int = 12, patch: int = 16, size: int = 224) -> None:
        super().__init__()
        side = size // patch
        self.embed = PatchTokens(d, patch, side * side, position=False)
        self.blocks = nn.Sequential(
            *(Encoder(d, BeitAttention(d, heads, side), 4 * d, eps=1e-12, layer_scale=True) for _ in range(depth))
        )
        self.norm, self.head = nn.LayerNorm(d, eps=1e-12), nn.Linear(d, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.blocks(self.embed(x))[:, 1:].mean(1)))


class MobileViTBlock(nn.Module):
    """local 3x3 + 1x1 -> unfold 2 x 2 patches -> transformer layers -> fold -> 1x1 -> fuse 3x3."""

    def __init__(self, c: int, d: int, depth: int, heads: int = 4, patch: int = 2) -> None:
        super().__init__()
        self.patch = patch
        self.local = nn.Sequential(conv_bn(c, c, 3, act=nn.SiLU), conv(c, d, 1, bias=False))
        self.layers = nn.Sequential(
            *(Encoder(d, SelfAttention(d, heads), 2 * d, eps=1e-5, act=nn.SiLU) for _ in range(depth))
        )
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.project = conv_bn(d, c, 1, act=nn.SiLU)
        self.fuse = conv_bn(2 * c, c, 3, act=nn.SiLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.local(x)
        b, d, h, w = y.shape
        p = self.patch
        t = y.reshape(b * d * h // p, p, w // p, p).transpose(1, 2)
        t = t.reshape(b, d, (h // p) * (w // p), p * p).transpose(1, 3).reshape(b * p * p, -1, d)
        t = self.norm(self.layers(t))
        t = t.reshape(b, p * p, (h // p) * (w // p), d).transpose(1, 3)
        y = t.reshape(b * d * h // p, w // p, p, p).transpose(1, 2).reshape(b, d, h, w)
        return self.fuse(torch.cat([x, self.project(y)], 1))


def mobilevit_s() -> nn.Module:
    def mv2(cin: int, cout: int, stride: int) -> nn.Module:
        return inverted_residual(cin, cout, stride, 4, act=nn.SiLU)

    features = nn.Sequential(
        conv_bn(3, 16, 3, 2, act=nn.SiLU),
        mv2(16, 32, 1),
        mv2(32, 64, 2),
        mv2(64, 64, 1),
        mv2(64, 64, 1),
        mv2(64, 96, 2),
        MobileViTBlock(96, 144, 2),
        mv2(96, 128, 2),
        MobileViTBlock(128, 192, 4),
        mv2(128, 160, 2),
        MobileViTBlock(160, 240, 3),
        conv_bn(160, 640, 1, act=nn.SiLU),
    )
    return nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(640, 1000))


class Meta4D(nn.Module):
    """x + s1 * (avgpool3x3(x) - x); x + s2 * (1x1 BN GELU 1x1 BN)(x)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.mlp = nn.Sequential(conv_bn(c, 4 * c, 1, act=nn.GELU), conv_bn(4 * c, c, 1, act=None))
        self.s1 = nn.Parameter(torch.full((c, 1, 1), 1e-5))
        self.s2 = nn.Parameter(torch.full((c, 1, 1), 1e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.s1 * (self.pool(x) - x)
        return x + self.s2 * self.mlp(x)


class EfficientFormer(nn.Module):
    """EfficientFormer-L1: stem, 4 stages of Meta4D (3, 2, 6, 4 blocks; the last stage's last one
    a Meta3D attention block on the 7 x 7 tokens), the mean of the tokens to two heads, averaged."""

    def __init__(self) -> None:
        super().__init__()
        dims, depths = (48, 96, 224, 448), (3, 2, 6, 4)
        mods: list[nn.Module] = [conv_bn(3, 24, 3, 2), conv_bn(24, 48, 3, 2)]
        for i, (c, n) in enumerate(zip(dims, depths, strict=True)):
            if i > 0:
                mods.append(conv_bn(dims[i - 1], c, 3, 2, act=None))
            mods += [Meta4D(c) for _ in range(n - (1 if i == 3 else 0))]
        self.features = nn.Sequential(*mods)
        index = self._bias_index(7)
        self.attn_bias = nn.Parameter(torch.zeros(8, int(index.max()) + 1))
        self.register_buffer("bias_index", index, persistent=False)
        self.meta3d = Encoder(448, SelfAttention(448, 8, key=32, value=128), 4 * 448, eps=1e-5, layer_scale=True)
        self.norm = nn.LayerNorm(448, eps=1e-5)
        self.head, self.dist = nn.Linear(448, 1000), nn.Linear(448, 1000)

    @staticmethod
    def _bias_index(side: int) -> torch.Tensor:
        """Index of |dy|, |dx| offsets into the bias table, `n x n` (as LeViT's attention bias)."""
        pts = [(y, x) for y in range(side) for x in range(side)]
        offsets: dict[tuple[int, int], int] = {}
        idx = [[offsets.setdefault((abs(a[0] - b[0]), abs(a[1] - b[1])), len(offsets)) for b in pts] for a in pts]
        return torch.tensor(idx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.features(x).flatten(2).transpose(1, 2)
        attn = self.meta3d.attn
        assert isinstance(attn, SelfAttention)
        attn.bias = self.attn_bias[:, self.get_buffer("bias_index")]
        t = self.norm(self.meta3d(t)).mean(1)
        return (self.head(t) + self.dist(t)) / 2


BUILDERS = {
    "vit_b16": ViT,
    "beit_b16": BEiT,
    "mobilevit_s": mobilevit_s,
    "efficientformer_l1": EfficientFormer,
}
INPUTS = {
    "vit_b16": (3, 224, 224),
    "beit_b16": (3, 224, 224),
    "mobilevit_s": (3, 256, 256),
    "efficientformer_l1": (3, 224, 224),
}
