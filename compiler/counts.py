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

from archc.dsl.macro import KINDS

from .blocks import get as get_block
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


# IR node kind -> the setting whose kinds it takes (stem and head share theirs: `conv`)
_SETTINGS = {"conv": "stem", "down": "down", "up": "up", "skip": "skip", "feature": "residual"}


def _macro_macs(d: dict[str, Any], h: int, w: int) -> int:
    """Conv MACs of a macro op whose output is `h x w` (a down's at the coarser level, an up's at the finer)."""
    if d["kind"] not in _SETTINGS:
        return 0
    k = KINDS[_SETTINGS[d["kind"]]][d["op"]]
    cin, cout = d["channels_in"], d["channels_out"]
    if d["kind"] == "up":  # the conv runs at the coarse level: (h/2)(w/2) pixels, cin -> shuffle x cout
        return (h // 2) * (w // 2) * cin * cout * k.kernel * k.shuffle
    # a down reads its kernel at the fine level and writes cout at the coarse; a kind without a conv: 0
    return h * w * cout * cin * k.kernel


def node_macs(d: dict[str, Any], size: tuple[int, int]) -> int:
    """Conv MACs of one IR node at padded input `size` (H, W)."""
    h, w = _res(size, d["level"])
    cin = d["channels_in"]
    if d["kind"] == "stage":
        total = 0
        for seg in d["segments"]:
            defn = get_block(seg["kind"])
            total += (seg["stop"] - seg["start"]) * defn.macs(defn.params(**seg["params"]), cin, h, w)
        return total
    return _macro_macs(d, h, w)


def _module_names(model: ArchNet, g: nx.DiGraph) -> dict[str, str]:
    names = {"stem": "intro", "head": "ending", "feature_skip": "feature_skip"}
    for attr, stages in model.stage_names.items():
        for i, n in enumerate(stages):
            names[n] = attr if attr in ("middle_blks", "refinement") else f"{attr}.{i}"
    names.update({f"down{i}": f"downs.{i}" for i in range(len(model.downs))})
    names.update({f"up{i}": f"ups.{i}" for i in range(len(model.ups))})
    names.update({f"skip{i}": f"merges.{i}" for i in range(len(model.ups))})
    return names


def _params_under(model: ArchNet, prefix: str) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if n == prefix or n.startswith(prefix + "."))


def _counted(d: dict[str, Any]) -> bool:
    """Ops with weights: stages, and the macro ops whose kind has a conv (stem, head, downs, ups, the
    skips that reduce and the feature skip)."""
    return d["kind"] == "stage" or (d["kind"] in _SETTINGS and KINDS[_SETTINGS[d["kind"]]][d["op"]].bias is not None)


def _order(g: nx.DiGraph) -> Iterator[str]:
    return (n for n in nx.topological_sort(g) if _counted(g.nodes[n]))


def count(g: nx.DiGraph, size: tuple[int, int] = (256, 256)) -> Counts:
    """Per-stage parameters and conv MACs of an IR graph at input size (H, W)."""
    with torch.device("meta"):
        model = lower(g)
    padded = _padded(size, g.graph["levels"])
    names = _module_names(model, g)
    rows = []
    for n in _order(g):
        d = g.nodes[n]
        rows.append(StageCount(n, names[n], d["kind"], d["channels_out"], _res(padded, d["level"]),
                               _params_under(model, names[n]), node_macs(d, padded)))
    return Counts((size[0], size[1]), tuple(rows))
