"""IR -> `.arch` text: the network of a graph (a choice applied) as a fixed spec with no search part.

Every slot is resolved into the stage's runs (`identity x14 + naf x14`), so the printed spec
compiles to the same module, with the same state_dict keys, as the graph it came from.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .ir import stages_by_role


def _runs(d: dict[str, Any]) -> str:
    merged: list[list[Any]] = []
    for seg in d["segments"]:
        count = seg["stop"] - seg["start"]
        if merged and merged[-1][0] == seg["block"]:
            merged[-1][1] += count
        else:
            merged.append([seg["block"], count])
    return " + ".join(b + (f" x{n}" if n != 1 else "") for b, n in merged)


def arch_text(g: nx.DiGraph, name: str | None = None, comment: str | None = None) -> str:
    """A fixed `.arch` spec for the network of `g`."""
    m = g.graph
    nodes = dict(g.nodes(data=True))
    lines = [f"# {line}" for line in (comment or "").splitlines()]
    lines += [
        f"arch {name or m['name']} {{",
        f"    channels in {m['in_channels']} out {m['out_channels']}",
        f"    width {m['width']}",
        f"    stem {nodes['stem']['op']}",
        f"    head {nodes['head']['op']}",
        f"    down {nodes['down0']['op'] if 'down0' in nodes else 'conv2x2'}",
        f"    up {nodes['up0']['op'] if 'up0' in nodes else 'pixelshuffle'}",
        f"    skip {m['skip']}",
        f"    residual {m['residual']}",
        "",
    ]
    for role in ("encoder", "middle", "decoder"):
        lines += [f"    {role} {n}: {_runs(d)}" for n, d in stages_by_role(g, role)]
    lines.append("}")
    return "\n".join(lines) + "\n"
