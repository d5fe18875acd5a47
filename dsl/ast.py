"""The syntax tree of a `.arch` file: pure declarations, each node carrying its source span.

Spans never take part in equality, so two specs that say the same thing compare equal
wherever their text sits. Repetition (`naf x28`) stays one node here; lowering expands it.
"""

from __future__ import annotations

from attrs import field, frozen

from archc.diagnostics import Span

ParamValue = int | float | bool | str


@frozen
class Name:
    value: str
    span: Span | None = field(default=None, eq=False)


@frozen
class Param:
    name: str
    value: ParamValue
    span: Span | None = field(default=None, eq=False)
    value_span: Span | None = field(default=None, eq=False)


@frozen
class BlockRef:
    kind: str
    params: tuple[Param, ...] = ()
    span: Span | None = field(default=None, eq=False)


@frozen
class Setting:
    """A network setting: `channels in 3 out 3`, `width 32`, `stem conv3x3(bias=off)`, ...

    `skip level 1: concat` is the setting `skip_level` with values `(1, "concat")`; the options in
    parentheses of a macro operation are its `params`.
    """

    key: str
    values: tuple[ParamValue, ...]
    span: Span | None = field(default=None, eq=False)
    value_spans: tuple[Span, ...] = field(default=(), eq=False)
    params: tuple[Param, ...] = ()


@frozen
class Run:
    """`naf x28`: one block kind repeated."""

    block: BlockRef
    repeat: int = 1
    repeat_span: Span | None = field(default=None, eq=False)


@frozen
class StageDecl:
    role: str  # "encoder" | "middle" | "decoder" | "refine"
    name: Name
    runs: tuple[Run, ...]
    span: Span | None = field(default=None, eq=False)

    @property
    def block(self) -> BlockRef:
        """The block of the first run (most stages have one run)."""
        return self.runs[0].block


@frozen
class ArchDecl:
    name: Name
    settings: tuple[Setting, ...]
    stages: tuple[StageDecl, ...]
    span: Span | None = field(default=None, eq=False)


@frozen
class SlotRef:
    """`enc1` (a whole stage) or `enc4[0:14]` (blocks 0..13 of a stage)."""

    name: Name
    start: int | None = None
    stop: int | None = None
    span: Span | None = field(default=None, eq=False)

    def __str__(self) -> str:
        if self.start is None:
            return self.name.value
        return f"{self.name.value}[{self.start}:{self.stop}]"


@frozen
class SlotsDecl:
    slots: tuple[SlotRef, ...]
    span: Span | None = field(default=None, eq=False)


@frozen
class CandidatesDecl:
    targets: tuple[SlotRef, ...] | None  # None means every slot (`*`)
    blocks: tuple[BlockRef, ...]
    span: Span | None = field(default=None, eq=False)


@frozen
class ExcludeSlot:
    slot: SlotRef
    block: BlockRef | None = None
    span: Span | None = field(default=None, eq=False)


@frozen
class ExcludeTop:
    k: int
    metric: Name
    span: Span | None = field(default=None, eq=False)
    k_span: Span | None = field(default=None, eq=False)


@frozen
class BudgetDecl:
    value: int
    span: Span | None = field(default=None, eq=False)


@frozen
class PrecisionDecl:
    """`precision SLOTS: fp16 | w8a8 | w8a16`: the numeric precisions a slot may run in."""

    targets: tuple[SlotRef, ...] | None  # None means every slot (`*`)
    precisions: tuple[Name, ...]
    span: Span | None = field(default=None, eq=False)


SearchItem = SlotsDecl | CandidatesDecl | ExcludeSlot | ExcludeTop | BudgetDecl | PrecisionDecl


@frozen
class SearchDecl:
    over: Name
    items: tuple[SearchItem, ...]
    span: Span | None = field(default=None, eq=False)


@frozen
class Comment:
    text: str
    span: Span | None = field(default=None, eq=False)


@frozen
class SpecFile:
    archs: tuple[ArchDecl, ...]
    searches: tuple[SearchDecl, ...]
    comments: tuple[Comment, ...] = field(default=(), eq=False)
    path: str = field(default="<spec>", eq=False)
