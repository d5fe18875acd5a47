"""Checkpoint key layouts: how another family's official state_dict keys name the modules of a
compiled network.

A compiled network keeps NAFNet's top-level names (`intro`, `encoders.0`, `downs.0`, ...) and each
block kind keeps its own family's inner names (`attn.qkv`, `norm1.body`), so NAFNet and Baseline
checkpoints load as they are. A spec that declares `checkpoint restormer` also loads Restormer's
release checkpoints: their top-level names are renamed here, prefix for prefix, and the result must
then fit the network strictly (every key present, none left over, every shape equal). Files the
network wrote itself (archc safetensors) already use its own names and load unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import networkx as nx
import torch

from archc.errors import WeightsError

Renames = list[tuple[str, str]]  # (official prefix, compiled prefix)


def _restormer(g: nx.DiGraph) -> Renames:
    """Restormer's names for a network of L levels (official levels count from 1; decoders deepest first)."""
    levels = int(g.graph["levels"])
    out: Renames = [("patch_embed.proj", "intro"), ("latent", "middle_blks"), ("refinement", "refinement"),
                    ("skip_conv", "feature_skip"), ("output", "ending")]
    for level in range(1, levels + 1):
        dec = levels - level  # index of the level's decoder, deepest first
        out += [
            (f"encoder_level{level}", f"encoders.{level - 1}"),
            (f"down{level}_{level + 1}.body", f"downs.{level - 1}"),
            (f"up{level + 1}_{level}.body", f"ups.{dec}"),
            (f"reduce_chan_level{level}", f"merges.{dec}.reduce"),
            (f"decoder_level{level}", f"decoders.{dec}"),
        ]
    return out


LAYOUTS: dict[str, Callable[[nx.DiGraph], Renames]] = {"archc": lambda g: [], "restormer": _restormer}


def _rename(key: str, renames: Renames) -> str:
    for official, own in renames:
        if key == official or key.startswith(official + "."):
            return own + key[len(official):]
    return key


def to_network_keys(state: Mapping[str, torch.Tensor], g: nx.DiGraph,
                    own_keys: frozenset[str]) -> dict[str, torch.Tensor]:
    """`state` under the network's own names: unchanged when it already uses them (or the spec
    declares no layout), else renamed by the spec's `checkpoint` layout."""
    name = g.graph.get("checkpoint", "archc")
    if name not in LAYOUTS:
        raise WeightsError(f"no checkpoint layout named `{name}`", code="E0405",
                           help=f"known layouts: {', '.join(LAYOUTS)}")
    if set(state) <= own_keys:
        return dict(state)
    renames = LAYOUTS[name](g)
    return {_rename(k, renames): v for k, v in state.items()}
