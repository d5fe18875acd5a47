"""Latency proxies: a network priced by a count instead of a device, as a baseline for profiling.

`transformer-count` is the latency term of "Edge-Efficient Image Restoration: Transformer
Distillation into State-Space Models" (arXiv 2605.02794): the number of transformer blocks in the
network, with no profiling at all. As a block table it is

    count = fixed + sum over slots of repeat x transformers(candidate)

where `fixed` counts the transformer blocks outside the searchable slots (excluded slots keep
their original block) and `transformers(candidate)` is 1 for a kind that declares itself a
transformer block (`restormer`) and 0 for anything else. It is additive by construction, so the
search uses it exactly as it uses a device's block table. Its figures are counts, never
milliseconds: every label says "proxy".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from archc.compiler.blocks import get as get_block
from archc.compiler.space import SearchSpace
from archc.dsl.spec import Block, Slot, Spec

PROXIES = ("transformer-count",)
UNIT = "transformer blocks (proxy, not ms)"
SOURCE = "proxy: transformer-block count (not a latency; nothing profiled)"


def transformers(block: Block) -> int:
    """Transformer blocks in one block of a slot (1 or 0)."""
    return int(bool(get_block(block.kind).transformer))


def _searched_positions(space: SearchSpace) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for slot in space.slots:
        out.setdefault(slot.stage, set()).update(range(slot.start, slot.stop))
    return out


def fixed_count(spec: Spec, space: SearchSpace) -> int:
    """Transformer blocks in the positions no searchable slot covers."""
    searched = _searched_positions(space)
    n = 0
    for stage in spec.stages:
        pos = 0
        for block, repeat in stage.runs:
            kept = [p for p in range(pos, pos + repeat) if p not in searched.get(stage.name, set())]
            n += transformers(block) * len(kept)
            pos += repeat
    return n


@frozen
class TransformerCount:
    """The proxy's block table: `entry(slot, block)` = repeat x transformers(block); `predict` has
    the signature of `LatencyTable.predict`, so `latency_matrix` splits it like a device's table."""

    space: SearchSpace
    fixed: int

    @classmethod
    def of(cls, spec: Spec, space: SearchSpace | None = None) -> TransformerCount:
        space = space or SearchSpace.of(spec)
        return cls(space, fixed_count(spec, space))

    @staticmethod
    def entry(slot: Slot, block: Block) -> int:
        return slot.count * transformers(block)

    def predict(self, choice: Mapping[str, Block], corrected: bool = True) -> float:
        """Transformer blocks in the network with `choice` (slots not named keep the original)."""
        return float(self.fixed + sum(self.entry(s, choice.get(s.name, s.original)) for s in self.space.slots))

    def rows(self) -> list[dict[str, Any]]:
        """The table, one row per (slot, candidate), for the search record."""
        return [
            {"slot": s.name, "candidate": c.canonical, "count": s.count, "transformer_blocks": self.entry(s, c)}
            for s in self.space.slots
            for c in s.candidates
        ]

    def record(self) -> dict[str, Any]:
        return {
            "proxy": "transformer-count",
            "unit": UNIT,
            "fixed": self.fixed,
            "baseline": self.predict({}),
            "table": self.rows(),
        }


def proxy_table(name: str, spec: Spec, space: SearchSpace) -> TransformerCount:
    """The table of proxy `name` (one of `PROXIES`; the command line offers only those)."""
    if name != "transformer-count":
        raise ValueError(f"unknown latency proxy {name!r}; known: {', '.join(PROXIES)}")
    return TransformerCount.of(spec, space)


def latency_text(value: float, results: Mapping[str, Any]) -> str:
    """One network's latency as a search record labels it: ms, or a proxy's count and unit."""
    if results.get("latency_proxy"):
        return f"{value:g} {results.get('latency_unit', UNIT)}"
    return f"{value:.3f} ms"
