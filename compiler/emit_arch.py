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


def _widths(m: dict[str, Any]) -> str:
    widths = m.get("widths") or [m["width"] * 2**level for level in range(m["levels"] + 1)]
    doubling = all(w == widths[0] * 2**level for level, w in enumerate(widths))
    return f"width {widths[0]}" if doubling else "widths " + " ".join(str(w) for w in widths)


def _skips(m: dict[str, Any]) -> list[str]:
    """`skip KIND` for the kind most levels use, then `skip level N: KIND` for the others."""
    skips = m.get("skips") or ["add"]
    common = max(skips, key=skips.count)
    return [f"skip {common}"] + [f"skip level {i + 1}: {s}" for i, s in enumerate(skips) if s != common]


def _text(nodes: dict[str, Any], name: str, fallback: str) -> str:
    return str(nodes[name].get("text", nodes[name]["op"])) if name in nodes else fallback


def _residual(m: dict[str, Any], nodes: dict[str, Any]) -> str:
    return _text(nodes, "feature_skip", m["residual"]) if m["residual"] == "feature" else m["residual"]


def _macro_lines(m: dict[str, Any], nodes: dict[str, Any]) -> list[str]:
    lines = [
        f"channels in {m['in_channels']} out {m['out_channels']}",
        _widths(m),
        f"stem {_text(nodes, 'stem', 'conv3x3')}",
        f"head {_text(nodes, 'head', 'conv3x3')}",
        f"down {_text(nodes, 'down0', 'conv2x2')}",
        f"up {_text(nodes, 'up0', 'pixelshuffle')}",
        *_skips(m),
        f"residual {_residual(m, nodes)}",
    ]
    lines += [f"pad {m['pad']}"] if m.get("pad", "auto") != "auto" else []
    lines += [f"checkpoint {m['checkpoint']}"] if m.get("checkpoint", "archc") != "archc" else []
    return lines


def arch_text(g: nx.DiGraph, name: str | None = None, comment: str | None = None) -> str:
    """A fixed `.arch` spec for the network of `g`."""
    m = g.graph
    nodes = dict(g.nodes(data=True))
    lines = [f"# {line}" for line in (comment or "").splitlines()]
    lines += [f"arch {name or m['name']} {{", *(f"    {x}" for x in _macro_lines(m, nodes)), ""]
    for role in ("encoder", "middle", "decoder", "refine"):
        lines += [f"    {role} {n}: {_runs(d)}" for n, d in stages_by_role(g, role)]
    lines.append("}")
    return "\n".join(lines) + "\n"
