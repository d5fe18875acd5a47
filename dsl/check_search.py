"""Semantic checks of a `search over` block: slots, candidates, exclusions, saliency rules, budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import attrs

from archc.diagnostics import Label, Span, labels_at, quoted_list, unknown_name_help

from . import ast, precision
from .spec import Block, SaliencyRule, Search, Slot, Spec

MAX_BUDGET = 1_000_000
SALIENCY_METRICS = ("grad_norm", "snip", "grasp", "fisher", "synflow", "taylor")


class NetworkChecks(Protocol):
    """What the search checks borrow from the network checks (`dsl.check`)."""

    stage_names: frozenset[str]

    def error(
        self, code: str, message: str, span: Span | None, *, help: str | None = None, labels: tuple[Label, ...] = ()
    ) -> None: ...

    def block(self, ref: ast.BlockRef) -> Block | None: ...

    def fits(self, block: Block, channels: int, where: str) -> bool: ...


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class SearchChecker:
    """Resolves one search block against the checked network; errors go to the network checker."""

    def __init__(self, net: NetworkChecks) -> None:
        self.net = net
        self.error = net.error
        self.unknown_targets = False  # a misspelt slot name: "has no candidates" would only echo it

    def run(self, decl: ast.SearchDecl, spec: Spec) -> Search | None:
        if decl.over.value != spec.name:
            self.error(
                "E0240",
                f"the search is over `{decl.over.value}`, but the network is `{spec.name}`",
                decl.over.span,
                help=f"write `search over {spec.name}`",
            )
        slots = self._slots(decl, spec)
        if slots is None:
            return None
        names = {s.name: s for s in slots}
        rules = self._candidate_rules(decl, names)
        fixed_names = self._excluded_slots(decl, names)
        resolved = []
        for slot in slots:
            blocks = rules.get(slot.name, rules.get("*"))
            if blocks is None:
                if slot.name not in fixed_names and not self.unknown_targets:
                    self.error(
                        "E0245",
                        f"slot `{slot.name}` has no candidates",
                        slot.span or decl.over.span,
                        help=f"add `candidates {slot.name}: ...` or `candidates *: ...`",
                    )
                blocks = []
            resolved.append(self._with_candidates(slot, self._fitting(blocks, slot, spec)))
        resolved = [self._exclude_candidates(decl, s) for s in resolved]
        precisions = self._precision_rules(decl, names)
        if precisions:
            resolved = [s if s.name in fixed_names else self._with_precisions(s, precisions) for s in resolved]
        searchable = tuple(s for s in resolved if s.name not in fixed_names)
        fixed = tuple(s for s in resolved if s.name in fixed_names)
        self._unknown_excluded_targets(decl, names)
        rules_top = self._saliency_rules(decl, len(searchable))
        if slots and not searchable:
            self.error(
                "E0246",
                "every slot is excluded: nothing is left to search",
                decl.over.span,
                help="remove an `exclude` line",
            )
        budgets = [i for i in decl.items if isinstance(i, ast.BudgetDecl)]
        for b in budgets:
            if not 1 <= b.value <= MAX_BUDGET:
                self.error(
                    "E0247",
                    f"budget must be between 1 and {MAX_BUDGET}, not {b.value}",
                    b.span,
                    help="the budget is how many networks the search evaluates, e.g. `budget 200`",
                )
        for b in budgets[1:]:
            first = labels_at(budgets[0].span, "first set here")
            self.error("E0248", "`budget` is set twice", b.span, labels=first, help="keep one of them")
        return Search(searchable, fixed, rules_top, budgets[0].value if budgets else None, decl.span)

    def _slots(self, decl: ast.SearchDecl, spec: Spec) -> list[Slot] | None:
        decls = [i for i in decl.items if isinstance(i, ast.SlotsDecl)]
        for extra in decls[1:]:
            self.error("E0241", "`slots` is declared twice", extra.span, help="list every slot in one `slots` line")
        if not decls:  # every stage of one block kind is a slot; mixed stages stay as written
            return [Slot(s.name, s.name, 0, s.repeat, s.block, (s.block,), (), s.span)
                    for s in spec.stages if len(s.runs) == 1]
        out: list[Slot] = []
        covered: dict[tuple[str, int], Slot] = {}
        for ref in decls[0].slots:
            slot = self._slot(ref, spec)
            if slot is None:
                continue
            clash = next(
                (covered[(slot.stage, i)] for i in range(slot.start, slot.stop) if (slot.stage, i) in covered), None
            )
            if clash is not None:
                self._slot_clash(slot, clash)
                continue
            covered.update({(slot.stage, i): slot for i in range(slot.start, slot.stop)})
            out.append(slot)
        return out

    def _slot_clash(self, slot: Slot, clash: Slot) -> None:
        labels = labels_at(clash.span, "first listed here")
        if slot.name == clash.name:
            self.error(
                "E0257", f"slot `{slot.name}` is listed twice", slot.span, labels=labels, help="remove the second one"
            )
        else:
            self.error(
                "E0242",
                f"slot `{slot.name}` overlaps slot `{clash.name}`",
                slot.span,
                labels=labels,
                help="slots of one stage must not share blocks",
            )

    def _slot(self, ref: ast.SlotRef, spec: Spec) -> Slot | None:
        try:
            stage = spec.stage(ref.name.value)
        except KeyError:
            stages = [s.name for s in spec.stages]
            self.error(
                "E0243",
                f"no stage named `{ref.name.value}`",
                ref.name.span,
                help=unknown_name_help(ref.name.value, stages, f"the stages are {quoted_list(stages, conj='and')}"),
            )
            return None
        start, stop = (0, stage.repeat) if ref.start is None else (ref.start, ref.stop)
        assert start is not None and stop is not None
        if not 0 <= start < stop <= stage.repeat:
            self.error(
                "E0244",
                f"slice [{start}:{stop}] does not fit stage `{stage.name}` "
                f"({stage.repeat} block{'s' if stage.repeat > 1 else ''})",
                ref.span,
                help=f"use [a:b] with 0 <= a < b <= {stage.repeat}",
            )
            return None
        original = stage.run_at(start, stop)
        if original is None:
            self.error(
                "E0258",
                f"slot `{ref}` spans blocks of different kinds in stage `{stage.name}`",
                ref.span,
                help="a slot must lie within one run of the stage, e.g. one side of a `+`",
            )
            return None
        return Slot(str(ref), stage.name, start, stop, original, (original,), (), ref.span)

    def _lookup(self, ref: ast.SlotRef, names: Mapping[str, Slot], action: str) -> Slot | None:
        """The slot `ref` names; `action` says what the line wanted to do with it."""
        slot = names.get(str(ref))
        if slot is None:
            self.error(
                "E0250",
                f"cannot {action} `{ref}`: there is no such slot",
                ref.span,
                help=self._not_a_slot_help(ref, names, action),
            )
        return slot

    def _not_a_slot_help(self, ref: ast.SlotRef, names: Mapping[str, Slot], action: str) -> str:
        stage = ref.name.value
        parts = [n for n, s in names.items() if s.stage == stage]
        if not names:
            return "no slot is left to name: fix the `slots` line first"
        if parts:
            return f"the slots of stage `{stage}` are {quoted_list(parts, conj='and')}"
        if stage in self.net.stage_names:
            fix = "add it to the `slots` line to search it" if action.startswith("give") else "remove this line"
            return f"stage `{stage}` is not in the `slots` line, so it is not searched; {fix}"
        return unknown_name_help(str(ref), names, f"the slots are {quoted_list(names, conj='and')}")

    def _candidate_rules(self, decl: ast.SearchDecl, names: Mapping[str, Slot]) -> dict[str, list[Block]]:
        rules: dict[str, list[Block]] = {}
        where: dict[str, Span | None] = {}
        for item in (i for i in decl.items if isinstance(i, ast.CandidatesDecl)):
            blocks = self._unique_blocks(item.blocks)
            targets = (
                ["*"]
                if item.targets is None
                else [
                    s.name for ref in item.targets if (s := self._lookup(ref, names, "give candidates for")) is not None
                ]
            )
            self.unknown_targets |= item.targets is not None and len(targets) < len(item.targets)
            for t in targets:
                if t in rules:
                    label = labels_at(where[t], "first given here")
                    self.error(
                        "E0251",
                        f"candidates for `{t}` are given twice",
                        item.span,
                        labels=label,
                        help="list every candidate of a slot in one `candidates` line",
                    )
                    continue
                rules[t], where[t] = blocks, item.span
        return rules

    def _unique_blocks(self, refs: tuple[ast.BlockRef, ...]) -> list[Block]:
        out: list[Block] = []
        for ref in refs:
            block = self.net.block(ref)
            if block is None:
                continue
            if any(b.canonical == block.canonical for b in out):
                self.error(
                    "E0252", f"candidate `{block.canonical}` is listed twice", ref.span, help="remove the second one"
                )
                continue
            out.append(block)
        return out

    def _fitting(self, blocks: list[Block], slot: Slot, spec: Spec) -> list[Block]:
        """The candidates that can run at the slot's width (the others are reported)."""
        channels = spec.stage(slot.stage).channels
        return [b for b in blocks if self.net.fits(b, channels, f"slot `{slot.name}`")]

    def _with_candidates(self, slot: Slot, blocks: list[Block]) -> Slot:
        extra = tuple(b for b in blocks if b.canonical != slot.original.canonical)
        return attrs.evolve(slot, candidates=(slot.original, *extra))

    def _precision_rules(self, decl: ast.SearchDecl, names: Mapping[str, Slot]) -> dict[str, list[str]]:
        """Target (`*` or a slot name) -> the precisions its `precision` line lists."""
        rules: dict[str, list[str]] = {}
        where: dict[str, Span | None] = {}
        for item in (i for i in decl.items if isinstance(i, ast.PrecisionDecl)):
            listed = self._unique_precisions(item.precisions)
            targets = (["*"] if item.targets is None else
                       [s.name for ref in item.targets if (s := self._lookup(ref, names, "give a precision for"))])
            for t in targets:
                if t in rules:
                    self.error("E0261", f"precisions for `{t}` are given twice", item.span,
                               labels=labels_at(where[t], "first given here"),
                               help="list every precision of a slot in one `precision` line")
                    continue
                rules[t], where[t] = listed, item.span
        return rules

    def _unique_precisions(self, names: tuple[ast.Name, ...]) -> list[str]:
        out: list[str] = []
        for name in names:
            if name.value not in precision.SLOT:
                self._unknown_precision(name)
            elif name.value in out:
                self.error("E0262", f"precision `{name.value}` is listed twice", name.span,
                           help="remove the second one")
            else:
                out.append(name.value)
        return out

    def _unknown_precision(self, name: ast.Name) -> None:
        if name.value == precision.TRACED:
            help = (f"a phone NPU has no FP32 arithmetic: `{precision.ORIGINAL}` is the float precision (every "
                    f"slot's original); the others are {quoted_list(precision.QUANTIZED, conj='and')}")
        else:
            help = unknown_name_help(name.value, precision.SLOT,
                                     f"the precisions are {quoted_list(precision.SLOT, conj='and')}")
        self.error("E0260", f"unknown precision `{name.value}`", name.span, help=help)

    def _with_precisions(self, slot: Slot, rules: Mapping[str, list[str]]) -> Slot:
        listed = rules.get(slot.name, rules.get("*", []))
        original = precision.ORIGINAL
        return attrs.evolve(slot, precisions=(original, *(p for p in listed if p != original)))

    def _excluded_slots(self, decl: ast.SearchDecl, names: Mapping[str, Slot]) -> set[str]:
        out: set[str] = set()
        for item in decl.items:
            if isinstance(item, ast.ExcludeSlot) and item.block is None:
                slot = self._lookup(item.slot, names, "exclude")
                if slot is not None:
                    out.add(slot.name)
        return out

    def _exclude_candidates(self, decl: ast.SearchDecl, slot: Slot) -> Slot:
        removed: list[str] = []
        for item in decl.items:
            if not (isinstance(item, ast.ExcludeSlot) and item.block is not None and str(item.slot) == slot.name):
                continue
            block = self.net.block(item.block)
            if block is None:
                continue
            if block.canonical == slot.original.canonical:
                self.error(
                    "E0253",
                    f"`{block.canonical}` is the original block of slot `{slot.name}` and cannot be excluded",
                    item.block.span,
                    help=f"to keep the slot fixed, write `exclude {slot.name}`",
                )
            elif block.canonical not in [c.canonical for c in slot.candidates]:
                self.error(
                    "E0254",
                    f"`{block.canonical}` is not a candidate of slot `{slot.name}`",
                    item.block.span,
                    help=f"its candidates are {quoted_list((c.canonical for c in slot.candidates), conj='and')}",
                )
            else:
                removed.append(block.canonical)
        kept = tuple(c for c in slot.candidates if c.canonical not in removed)
        return attrs.evolve(slot, candidates=kept, excluded=tuple(removed))

    def _saliency_rules(self, decl: ast.SearchDecl, n_slots: int) -> tuple[SaliencyRule, ...]:
        out = []
        for item in (i for i in decl.items if isinstance(i, ast.ExcludeTop)):
            if item.metric.value not in SALIENCY_METRICS:
                self.error(
                    "E0255",
                    f"unknown saliency metric `{item.metric.value}`",
                    item.metric.span,
                    help=unknown_name_help(item.metric.value, SALIENCY_METRICS,
                                           f"the metrics are {quoted_list(SALIENCY_METRICS, conj='and')}"),
                )
                continue
            if not 1 <= item.k < n_slots:
                help = (
                    f"choose K between 1 and {n_slots - 1} so that a slot is left to search"
                    if n_slots > 1
                    else "nothing can be excluded when fewer than two slots are searched; remove this line"
                )
                self.error(
                    "E0256",
                    f"cannot exclude the top {item.k} of {count(n_slots, 'searchable slot')}",
                    item.k_span,
                    help=help,
                )
                continue
            out.append(SaliencyRule(item.k, item.metric.value, item.span))
        return tuple(out)

    def _unknown_excluded_targets(self, decl: ast.SearchDecl, names: Mapping[str, Slot]) -> None:
        """`exclude SLOT: BLOCK` naming a slot that does not exist."""
        for item in decl.items:
            if isinstance(item, ast.ExcludeSlot) and item.block is not None:
                self._lookup(item.slot, names, "exclude candidates of")
