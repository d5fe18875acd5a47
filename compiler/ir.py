"""Checked spec (+ choice) -> graph IR: a networkx DiGraph of ops and stages with shapes and spans.

Repetition is kept (`repeat`, segments) and expanded by lowering. Every node keeps the span of
the spec line it came from.

Two contracts join the front end to the back end, each for what it says:

- **The IR (this module), for one network.** Lowering, counting, memory estimates, export and the
  network-level profile read the graph of a spec with one choice, and never re-read the spec.
- **The checked `Spec`, for the search space.** The runtime stages that work on the whole space
  (`runtime.pipeline`: saliency, profile, distill, search, export, verify) take the checked Spec,
  because what they need is its `search` block: the slots with their candidates and precisions,
  the fixed slots, the saliency rules and the budget, which belong to no single network and so to
  no IR. They build each network they evaluate through the IR (`runtime.network.build`, `to_ir`), and they
  record the spec's text, so a run folder is read back with the same spec it was made from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from archc.diagnostics import Span
from archc.dsl.macro import Op
from archc.dsl.params import params_to_json
from archc.dsl.spec import Block, Spec, Stage

from .choice import canonical_choice
from .files import write_text_atomic


def _span(span: Span | None) -> dict[str, Any] | None:
    return span.to_json() if span else None


def _segment(block: Block, start: int, stop: int, slot: str | None) -> dict[str, Any]:
    return {
        "start": start,
        "stop": stop,
        "kind": block.kind,
        "params": params_to_json(block.params),
        "block": block.canonical,
        "slot": slot,
        "span": _span(block.span),
    }


def stage_segments(spec: Spec, stage: Stage, choice: Mapping[str, Block]) -> list[dict[str, Any]]:
    """The blocks of one stage as runs [start, stop) of one kind and one slot, after `choice`."""
    blocks: list[Block] = stage.blocks()
    owner: list[str | None] = [None] * stage.repeat
    slots = [] if spec.search is None else [
        s for s in (*spec.search.slots, *spec.search.fixed) if s.stage == stage.name
    ]
    if stage.name in choice:
        blocks, owner = [choice[stage.name]] * stage.repeat, [stage.name] * stage.repeat
    for slot in slots:
        for i in range(slot.start, slot.stop):
            blocks[i] = choice.get(slot.name, blocks[i])
            owner[i] = slot.name
    out: list[dict[str, Any]] = []
    start = 0
    for i in range(1, stage.repeat + 1):
        if i == stage.repeat or blocks[i].canonical != blocks[start].canonical or owner[i] != owner[start]:
            out.append(_segment(blocks[start], start, i, owner[start]))
            start = i
    return out


def _stage_node(spec: Spec, stage: Stage, choice: Mapping[str, Block]) -> dict[str, Any]:
    return {
        "kind": "stage",
        "op": "blocks",
        "role": stage.role,
        "index": stage.index,
        "level": stage.level,
        "channels_in": stage.channels,
        "channels_out": stage.channels,
        "repeat": stage.repeat,
        "segments": stage_segments(spec, stage, choice),
        "span": _span(stage.span),
    }


def _op(kind: str, op: str, cin: int, cout: int, level: int, span: Span | None, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "op": op, "channels_in": cin, "channels_out": cout, "level": level,
            "span": _span(span), **extra}


def _macro(kind: str, setting: str, o: Op, cin: int, cout: int, level: int, **extra: Any) -> dict[str, Any]:
    """An IR node for a macro operation: its kind (`op`), bias, activation and canonical text."""
    return _op(kind, o.kind, cin, cout, level, o.span, bias=o.bias, act=o.act, text=o.text(setting), **extra)


def _graph(spec: Spec, choice: Mapping[str, Block]) -> nx.DiGraph:
    return nx.DiGraph(
        name=spec.name, width=spec.width, widths=list(spec.ops.widths), in_channels=spec.in_channels,
        out_channels=spec.out_channels, levels=spec.levels, residual=spec.residual,
        skips=[o.text("skip") for o in spec.ops.skips], pad=spec.ops.pad, checkpoint=spec.ops.checkpoint,
        choice=canonical_choice(spec, choice), spec_path=spec.path,
    )


def _encoders(g: nx.DiGraph, spec: Spec, choice: Mapping[str, Block]) -> tuple[str, list[str]]:
    prev, skips, m = "stem", [], spec.ops
    for st in spec.by_role("encoder"):
        g.add_node(st.name, **_stage_node(spec, st, choice))
        g.add_edge(prev, st.name)
        skips.append(st.name)
        down = f"down{st.index}"
        g.add_node(down, **_macro("down", "down", m.down, st.channels, m.widths[st.level + 1], st.level + 1,
                                  index=st.index))
        g.add_edge(st.name, down)
        prev = down
    return prev, skips


def _decoders(g: nx.DiGraph, spec: Spec, choice: Mapping[str, Block], prev: str, skips: list[str]) -> str:
    """Each decoder: up to its level's width, merged with its encoder's output by the level's skip."""
    m = spec.ops
    for st, skip_from in zip(spec.by_role("decoder"), reversed(skips), strict=False):
        up, merge = f"up{st.index}", f"skip{st.index}"
        w, o = m.widths[st.level], m.skips[st.level]
        g.add_node(up, **_macro("up", "up", m.up, g.nodes[prev]["channels_out"], w, st.level, index=st.index))
        merged = 2 * w if o.kind != "add" else w
        g.add_node(merge, **_macro("skip", "skip", o, merged, st.channels, st.level, index=st.index))
        g.add_node(st.name, **_stage_node(spec, st, choice))
        g.add_edges_from([(prev, up), (up, merge), (skip_from, merge), (merge, st.name)])
        prev = st.name
    return prev


def to_ir(spec: Spec, choice: Mapping[str, Block] | None = None) -> nx.DiGraph:
    """Build the graph of `spec` with `choice` applied (slot or stage name -> block)."""
    choice = dict(choice or {})
    g = _graph(spec, choice)
    w, m = spec.width, spec.ops
    g.add_node("input", **_op("input", "image", spec.in_channels, spec.in_channels, 0, spec.span))
    g.add_node("stem", **_macro("conv", "stem", m.stem, spec.in_channels, w, 0))
    g.add_edge("input", "stem")
    prev, skips = _encoders(g, spec, choice)
    for st in spec.by_role("middle"):
        g.add_node(st.name, **_stage_node(spec, st, choice))
        g.add_edge(prev, st.name)
        prev = st.name
    prev = _decoders(g, spec, choice, prev, skips)
    for st in spec.by_role("refine"):
        g.add_node(st.name, **_stage_node(spec, st, choice))
        g.add_edge(prev, st.name)
        prev = st.name
    head_in = g.nodes[prev]["channels_out"]
    if m.residual.kind == "feature":  # stem features through a 1x1 conv, added to the head's input
        g.add_node("feature_skip", **_macro("feature", "residual", m.residual, w, head_in, 0))
        g.add_edges_from([("stem", "feature_skip"), (prev, "feature_skip")])
        prev = "feature_skip"
    g.add_node("head", **_macro("conv", "head", m.head, head_in, spec.out_channels, 0))
    g.add_edge(prev, "head")
    last = "head"
    if m.residual.kind == "global":
        g.add_node("residual", **_op("add", "global_residual", spec.out_channels, spec.out_channels, 0, spec.span))
        g.add_edges_from([("head", "residual"), ("input", "residual")])
        last = "residual"
    g.add_node("output", **_op("output", "image", spec.out_channels, spec.out_channels, 0, spec.span))
    g.add_edge(last, "output")
    return g


def stages_by_role(g: nx.DiGraph, role: str) -> list[tuple[str, dict[str, Any]]]:
    nodes = [(n, d) for n, d in g.nodes(data=True) if d["kind"] == "stage" and d["role"] == role]
    return sorted(nodes, key=lambda nd: nd[1]["index"])


def ir_to_json(g: nx.DiGraph) -> dict[str, Any]:
    return nx.node_link_data(g, edges="edges")


def ir_from_json(data: Mapping[str, Any]) -> nx.DiGraph:
    return nx.node_link_graph(dict(data), directed=True, edges="edges")


def ir_to_dot(g: nx.DiGraph) -> str:
    lines = [f'digraph "{g.graph["name"]}" {{', "  rankdir=TB;", "  node [shape=box, fontname=monospace];"]
    for n, d in g.nodes(data=True):
        if d["kind"] == "stage":
            blocks = " + ".join(f'{s["block"]} x{s["stop"] - s["start"]}' for s in d["segments"])
            label = f"{n} ({d['role']}, L{d['level']}, {d['channels_out']}ch)\\n{blocks}"
        else:
            label = f"{n}: {d['op']} {d['channels_in']}->{d['channels_out']}"
        lines.append(f'  "{n}" [label="{label}"];')
    lines += [f'  "{a}" -> "{b}";' for a, b in g.edges()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_ir(g: nx.DiGraph, path: Path, fmt: str = "json") -> None:
    text = json.dumps(ir_to_json(g), indent=1) + "\n" if fmt == "json" else ir_to_dot(g)
    write_text_atomic(path, text)
