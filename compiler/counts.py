"""Parameters and MACs per stage, read off the IR.

MACs follow the conv-only rule: for every convolution, output elements x (in_channels / groups)
x kh x kw; nothing else is counted. The input is padded to a multiple of 2^levels first, as the
network does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx
import torch
from attrs import frozen

from archc.runtime.blocks import get as get_block

from .lower import ArchNet, lower


@frozen
class StageCount:
    name: str  # IR node id: stem, enc1, down0, ..., head
    module: str  # state_dict prefix: intro, encoders.0, downs.0, ...
    kind: str
    channels: int
    resolution: tuple[int, int]
    params: int
    macs: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "module": self.module, "kind": self.kind, "channels": self.channels,
                "resolution": list(self.resolution), "params": self.params, "macs": self.macs}


@frozen
class Counts:
    size: tuple[int, int]
    stages: tuple[StageCount, ...]

    @property
    def params(self) -> int:
        return sum(s.params for s in self.stages)

    @property
    def macs(self) -> int:
        return sum(s.macs for s in self.stages)

    def to_json(self) -> dict[str, Any]:
        return {"input_size": list(self.size), "params": self.params, "macs": self.macs,
                "mac_rule": "conv only: output elements x in_channels/groups x kh x kw",
                "stages": [s.to_json() for s in self.stages]}


def _padded(size: tuple[int, int], levels: int) -> tuple[int, int]:
    m = 2**levels
    return (-(-size[0] // m) * m, -(-size[1] // m) * m)


def _res(size: tuple[int, int], level: int) -> tuple[int, int]:
    return (size[0] >> level, size[1] >> level)


def node_macs(d: dict[str, Any], size: tuple[int, int]) -> int:
    """Conv MACs of one IR node at padded input `size` (H, W)."""
    h, w = _res(size, d["level"])
    cin, cout = d["channels_in"], d["channels_out"]
    if d["kind"] == "conv":
        return h * w * cout * cin * 9
    if d["kind"] == "down":
        return h * w * cout * cin * 4
    if d["kind"] == "up":  # 1x1 conv C -> 2C at the deeper level, then depth-to-space
        return (h // 2) * (w // 2) * (2 * cin) * cin
    if d["kind"] == "stage":
        total = 0
        for seg in d["segments"]:
            defn = get_block(seg["kind"])
            total += (seg["stop"] - seg["start"]) * defn.macs(defn.params(**seg["params"]), cin, h, w)
        return total
    return 0


def _module_names(model: ArchNet) -> dict[str, str]:
    names = {"stem": "intro", "head": "ending"}
    for attr, stages in model.stage_names.items():
        for i, n in enumerate(stages):
            names[n] = "middle_blks" if attr == "middle_blks" else f"{attr}.{i}"
    names.update({f"down{i}": f"downs.{i}" for i in range(len(model.downs))})
    names.update({f"up{i}": f"ups.{i}" for i in range(len(model.ups))})
    return names


def _params_under(model: ArchNet, prefix: str) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if n == prefix or n.startswith(prefix + "."))


def _order(g: nx.DiGraph) -> Iterator[str]:
    return (n for n in nx.topological_sort(g) if g.nodes[n]["kind"] in ("conv", "stage", "down", "up"))


def count(g: nx.DiGraph, size: tuple[int, int] = (256, 256)) -> Counts:
    """Per-stage parameters and conv MACs of an IR graph at input size (H, W)."""
    with torch.device("meta"):
        model = lower(g)
    padded = _padded(size, g.graph["levels"])
    names = _module_names(model)
    rows = []
    for n in _order(g):
        d = g.nodes[n]
        rows.append(StageCount(n, names[n], d["kind"], d["channels_out"], _res(padded, d["level"]),
                               _params_under(model, names[n]), node_macs(d, padded)))
    return Counts((size[0], size[1]), tuple(rows))
