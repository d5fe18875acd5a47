"""The checked spec: what `archc.parse` returns. Every value is resolved and validated.

Equality ignores spans and the source text, so `parse(fmt(x)) == parse(x)`.
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from archc.diagnostics import Span

from .macro import Macro
from .params import canonical_block

ROLES = ("encoder", "middle", "decoder", "refine")


@frozen
class Block:
    """A block kind with validated parameters (an attrs instance of the kind's params class)."""

    kind: str
    params: Any
    span: Span | None = field(default=None, eq=False)

    @property
    def canonical(self) -> str:
        return canonical_block(self.kind, self.params)

    def __str__(self) -> str:
        return self.canonical


@frozen
class Stage:
    """One U-Net stage: `repeat` blocks at one resolution level, as runs of one kind each."""

    name: str
    role: str  # encoder | middle | decoder | refine
    index: int  # position among the stages of its role (0 = first listed)
    level: int  # 0 = full resolution
    channels: int  # the stage's width (a decoder's follows its skip: Restormer's level 1 runs at 2 x dim)
    runs: tuple[tuple[Block, int], ...]  # (block, count) in order
    span: Span | None = field(default=None, eq=False)

    @property
    def repeat(self) -> int:
        return sum(n for _, n in self.runs)

    @property
    def block(self) -> Block:
        """The block of the first run (the only one, for most stages)."""
        return self.runs[0][0]

    def blocks(self) -> list[Block]:
        """One entry per block position."""
        return [b for b, n in self.runs for _ in range(n)]

    def run_at(self, start: int, stop: int) -> Block | None:
        """The block kind of positions [start, stop) when they lie in one run, else None."""
        pos = 0
        for block, n in self.runs:
            if pos <= start and stop <= pos + n:
                return block
            pos += n
        return None


@frozen
class Slot:
    """A replaceable part of the network: a stage, or blocks [start, stop) of a stage."""

    name: str
    stage: str
    start: int
    stop: int
    original: Block
    candidates: tuple[Block, ...]  # the original first, then the alternatives
    excluded: tuple[str, ...] = ()  # canonical strings removed by `exclude SLOT: BLOCK`
    span: Span | None = field(default=None, eq=False)
    # numeric precisions the slot may run in, `fp16` (the float network as a phone NPU runs it)
    # first; empty when the search has no `precision` line (precision is then no search dimension)
    precisions: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return self.stop - self.start


@frozen
class SaliencyRule:
    """`exclude top K by METRIC`: resolved later from a saliency run."""

    k: int
    metric: str
    span: Span | None = field(default=None, eq=False)


@frozen
class Search:
    slots: tuple[Slot, ...]  # the searchable slots, in network order
    fixed: tuple[Slot, ...] = ()  # slots removed by `exclude SLOT` (kept at their original)
    saliency_rules: tuple[SaliencyRule, ...] = ()
    budget: int | None = None
    span: Span | None = field(default=None, eq=False)

    @property
    def has_precision(self) -> bool:
        """Whether precision is a search dimension (the search has a `precision` line)."""
        return any(s.precisions for s in self.slots)

    def slot(self, name: str) -> Slot:
        for s in (*self.slots, *self.fixed):
            if s.name == name:
                return s
        raise KeyError(name)


@frozen
class Spec:
    """A checked network spec (and its search space, when the file has one)."""

    name: str
    in_channels: int
    out_channels: int
    width: int  # the first level's
    stem: str  # the kinds of the macro operations (their options are in `macro`)
    head: str
    down: str
    up: str
    skip: str  # the kind of the `skip` line (every level that no `skip level N` line names)
    residual: str
    stages: tuple[Stage, ...]
    search: Search | None = None
    macro: Macro | None = None  # None: NAFNet's macro at `width` (every default)
    path: str = field(default="<spec>", eq=False)
    text: str = field(default="", eq=False, repr=False)
    span: Span | None = field(default=None, eq=False)

    @property
    def ops(self) -> Macro:
        """The resolved macro: operations with their options, per-level widths and skips."""
        return self.macro if self.macro is not None else Macro.of(self.levels, self.width)

    @property
    def levels(self) -> int:
        return sum(s.role == "encoder" for s in self.stages)

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def by_role(self, role: str) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.role == role)
