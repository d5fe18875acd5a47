"""Graph IR -> torch.nn.Module.

The module's attributes are registered in NAFNet's order (intro, ending, encoders, decoders,
middle_blks, ups, downs), so for the baseline the state_dict keys and shapes are exactly those
of the official NAFNet and its checkpoints load with strict=True. What NAFNet lacks comes after
them and holds tensors only where a spec asks for it: `merges` (a skip's reduce conv),
`refinement` (a refinement stage) and `feature_skip`. Other families' checkpoints load through a
declared key layout (`checkpoint restormer`, see `layouts.py`).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import torch
import torch.nn.functional as F
from torch import nn

from archc.errors import LoweringError

from . import macro_ops
from .blocks import get as get_block
from .ir import stages_by_role


def _act(x: torch.Tensor, act: nn.Module | None) -> torch.Tensor:
    return x if act is None else act(x)


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
    """A U-Net compiled from an `.arch` spec: N x C_in x H x W -> N x C_out x H x W.

    With `pad auto` (the default) inputs of any H, W are zero-padded on the right and bottom to a
    multiple of 2^levels and the output is cropped back, as NAFNet does; with `pad none` H and W
    must already be multiples of 2^levels, as in Restormer.
    """

    def __init__(self, g: nx.DiGraph) -> None:
        super().__init__()
        meta, nodes = g.graph, g.nodes
        self.intro = macro_ops.conv3x3(nodes["stem"])
        self.ending = macro_ops.conv3x3(nodes["head"])
        enc, mid, dec, ref = (stages_by_role(g, r) for r in ("encoder", "middle", "decoder", "refine"))
        self.encoders = nn.ModuleList(_blocks(d["segments"], d["channels_out"]) for _, d in enc)
        self.decoders = nn.ModuleList(_blocks(d["segments"], d["channels_out"]) for _, d in dec)
        self.middle_blks = _blocks(mid[0][1]["segments"], mid[0][1]["channels_out"])
        self.ups = nn.ModuleList(macro_ops.up(nodes[f"up{i}"]) for i in range(len(dec)))
        self.downs = nn.ModuleList(macro_ops.down(nodes[f"down{i}"]) for i in range(len(enc)))
        self.merges = nn.ModuleList(macro_ops.Merge(nodes[f"skip{i}"]) for i in range(len(dec)))
        if ref:
            self.refinement = _blocks(ref[0][1]["segments"], ref[0][1]["channels_out"])
        if "feature_skip" in nodes:
            self.feature_skip = macro_ops.conv1x1(nodes["feature_skip"])
        self.intro_act = macro_ops.activation(nodes["stem"]["act"])
        self.ending_act = macro_ops.activation(nodes["head"]["act"])
        self.padder_size = 2 ** len(enc)
        self.pad_input = meta.get("pad", "auto") == "auto"
        self.global_residual = meta["residual"] == "global"
        self.stage_names = {
            "encoders": [n for n, _ in enc], "middle_blks": [n for n, _ in mid], "decoders": [n for n, _ in dec],
            "refinement": [n for n, _ in ref],
        }
        self.arch_name: str = meta["name"]
        self.choice: str = meta["choice"]

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        m = self.padder_size
        if not self.pad_input:
            if not torch.jit.is_tracing() and (h % m or w % m):
                raise LoweringError(f"this network does not pad its input (`pad none`): {h} x {w} is not a "
                                    f"multiple of {m}", code="E0312",
                                    help=f"crop or pad the image to a multiple of {m}, or write `pad auto`")
            return x
        return F.pad(x, (0, (m - w % m) % m, 0, (m - h % m) % m))

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        h, w = inp.shape[-2], inp.shape[-1]
        x = self._pad(inp)
        stem = _act(self.intro(x), self.intro_act)
        feat, skips = stem, []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            feat = encoder(feat)
            skips.append(feat)
            feat = down(feat)
        feat = self.middle_blks(feat)
        for decoder, up, merge, skip in zip(self.decoders, self.ups, self.merges, reversed(skips), strict=True):
            feat = decoder(merge(up(feat), skip))
        if hasattr(self, "refinement"):
            feat = self.refinement(feat)
        if hasattr(self, "feature_skip"):
            feat = feat + self.feature_skip(stem)
        out = _act(self.ending(feat), self.ending_act)
        if self.global_residual:
            out = out + x
        return out[:, :, :h, :w] if self.pad_input else out

    def stage_module(self, name: str) -> nn.Sequential:
        """The Sequential of blocks of the named stage (e.g. `enc4` -> `encoders.3`)."""
        for attr, names in self.stage_names.items():
            if name in names:
                if attr in ("middle_blks", "refinement"):
                    return getattr(self, attr)  # type: ignore[no-any-return]
                return getattr(self, attr)[names.index(name)]  # type: ignore[no-any-return]
        raise KeyError(name)

    def stage_prefix(self, name: str) -> str:
        for attr, names in self.stage_names.items():
            if name in names:
                return attr if attr in ("middle_blks", "refinement") else f"{attr}.{names.index(name)}"
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

