"""Graph IR -> torch.nn.Module.

The module's attributes are registered in NAFNet's order (intro, ending, encoders, decoders,
middle_blks, ups, downs), so for the baseline the state_dict keys and shapes are exactly those
of the official NAFNet and its checkpoints load with strict=True.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import torch
import torch.nn.functional as F
from torch import nn

from archc.dsl.errors import LoweringError
from archc.runtime.blocks import get as get_block

from .ir import stages_by_role


def _blocks(segments: list[dict[str, Any]], channels: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    for seg in segments:
        defn = get_block(seg["kind"])
        try:
            params = defn.params(**seg["params"])
        except (TypeError, ValueError) as exc:
            raise LoweringError(f"bad parameters for block `{seg['kind']}`: {exc}", code="E0310") from exc
        mods += [defn.build(params, channels) for _ in range(seg["stop"] - seg["start"])]
    return nn.Sequential(*mods)


class ArchNet(nn.Module):
    """A U-Net compiled from an `.arch` spec: N x C_in x H x W -> N x C_out x H x W, any H, W.

    Inputs are zero-padded on the right and bottom to a multiple of 2^levels, and the output is
    cropped back, as NAFNet does.
    """

    def __init__(self, g: nx.DiGraph) -> None:
        super().__init__()
        meta = g.graph
        width, cin, cout = meta["width"], meta["in_channels"], meta["out_channels"]
        self.intro = nn.Conv2d(cin, width, 3, padding=1, bias=True)
        self.ending = nn.Conv2d(width, cout, 3, padding=1, bias=True)
        enc, mid, dec = (stages_by_role(g, r) for r in ("encoder", "middle", "decoder"))
        self.encoders = nn.ModuleList(_blocks(d["segments"], d["channels_out"]) for _, d in enc)
        self.decoders = nn.ModuleList(_blocks(d["segments"], d["channels_out"]) for _, d in dec)
        self.middle_blks = _blocks(mid[0][1]["segments"], mid[0][1]["channels_out"])
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(2 * d["channels_out"], 4 * d["channels_out"], 1, bias=False), nn.PixelShuffle(2))
            for _, d in dec
        )
        self.downs = nn.ModuleList(
            nn.Conv2d(d["channels_out"], 2 * d["channels_out"], 2, stride=2) for _, d in enc
        )
        self.padder_size = 2 ** len(enc)
        self.global_residual = meta["residual"] == "global"
        self.stage_names = {
            "encoders": [n for n, _ in enc], "middle_blks": [n for n, _ in mid], "decoders": [n for n, _ in dec],
        }
        self.arch_name: str = meta["name"]
        self.choice: str = meta["choice"]

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        m = self.padder_size
        return F.pad(x, (0, (m - w % m) % m, 0, (m - h % m) % m))

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        h, w = inp.shape[-2], inp.shape[-1]
        x = self._pad(inp)
        feat = self.intro(x)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            feat = encoder(feat)
            skips.append(feat)
            feat = down(feat)
        feat = self.middle_blks(feat)
        for decoder, up, skip in zip(self.decoders, self.ups, reversed(skips), strict=True):
            feat = decoder(up(feat) + skip)
        out = self.ending(feat)
        if self.global_residual:
            out = out + x
        return out[:, :, :h, :w]

    def stage_module(self, name: str) -> nn.Sequential:
        """The Sequential of blocks of the named stage (e.g. `enc4` -> `encoders.3`)."""
        for attr, names in self.stage_names.items():
            if name in names:
                if attr == "middle_blks":
                    return self.middle_blks
                return getattr(self, attr)[names.index(name)]  # type: ignore[no-any-return]
        raise KeyError(name)

    def stage_prefix(self, name: str) -> str:
        for attr, names in self.stage_names.items():
            if name in names:
                return "middle_blks" if attr == "middle_blks" else f"{attr}.{names.index(name)}"
        raise KeyError(name)


def lower(g: nx.DiGraph) -> ArchNet:
    """Build the module of an IR graph (fresh weights: PyTorch's default init, residual scales 0)."""
    if not stages_by_role(g, "middle"):
        raise LoweringError("the graph has no middle stage", code="E0311")
    return ArchNet(g)


def fold_for_export(model: nn.Module) -> nn.Module:
    """Apply every block's export-time rewrite (e.g. BatchNorm folding) in place; returns the model.

    Kept for callers of the old name: it is the `fold_batchnorm` inference pass.
    """
    from .passes.fold_batchnorm import fold_batchnorm

    return fold_batchnorm(model)

