"""Small networks, specs and datasets for the saliency tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

import archc
from archc.compiler.lower import ArchNet
from archc.dsl.spec import Spec

# Two levels, a beta-only block (dsconv), a 2-block stage, an identity stage; no search part, so
# every stage is a slot.
MIXED = """
arch mixed {
    width 4
    encoder e1: dsconv
    encoder e2: naf x2
    middle m: naf
    decoder d2: identity
    decoder d1: naf
}
"""

# Three searchable slots and one fixed, with a saliency rule.
SEARCHED = """
arch searched {
    width 4
    encoder e1: naf
    encoder e2: naf x2
    middle m: naf
    decoder d2: naf
    decoder d1: naf
}

search over searched {
    slots e1, e2[0:1], e2[1:2], m, d2, d1
    candidates *: naf | dsconv | identity
    exclude d2
    exclude top 2 by snip
}
"""


def randomised(spec: Spec, seed: int = 0, dtype: torch.dtype = torch.float32) -> ArchNet:
    """`spec`'s network with every parameter drawn at random (residual scales non-zero)."""
    torch.manual_seed(seed)
    model = archc.build(spec).to(dtype)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if name.endswith(("beta", "gamma")) else 0.3
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype) * scale)
    return model  # type: ignore[return-value]


def batches(
    count: int, size: int = 16, batch: int = 2, seed: int = 0, dtype: torch.dtype = torch.float32
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        sharp = torch.rand(batch, 3, size, size, generator=gen, dtype=dtype)
        out.append(((sharp + 0.1 * torch.randn(sharp.shape, generator=gen, dtype=dtype)).clamp(0, 1), sharp))
    return out


class TwoConv(nn.Module):
    """x -> conv2(tanh(conv1(x))): smooth, so finite differences are accurate."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(torch.tanh(self.conv1(x)))


def gopro_folder(root: Path, train: int = 4, test: int = 3, size: int = 40) -> Path:
    """A tiny GoPro-layout dataset: random sharp images, horizontally smeared copies as blur."""
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("test", test)):
        for kind in ("blur", "sharp"):
            (root / split / "SEQ" / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            sharp = (rng.random((size, size, 3)) * 255).astype(np.uint8)
            blur = ((sharp.astype(float) + np.roll(sharp, 3, axis=1)) / 2).astype(np.uint8)
            Image.fromarray(sharp).save(root / split / "SEQ" / "sharp" / f"{i:06d}.png")
            Image.fromarray(blur).save(root / split / "SEQ" / "blur" / f"{i:06d}.png")
    return root
