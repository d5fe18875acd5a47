"""Semantic checks: syntax tree -> checked Spec. Every error is collected, then raised once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from . import ast
from .diagnostics import Diagnostic, Label, Span, did_you_mean, quoted_list
from .errors import SemanticError
from .grammar import BlockSchema
from .spec import Block, SaliencyRule, Search, Slot, Spec, Stage

MAX_REPEAT = 256
MAX_WIDTH = 1024
MAX_CHANNELS = 64
MAX_LEVELS = 8
MAX_BUDGET = 1_000_000
SALIENCY_METRICS = ("grad_norm", "snip", "grasp", "fisher", "synflow", "taylor")

DEFAULTS: dict[str, tuple[Any, ...]] = {
    "channels": (3, 3),
    "width": (32,),
    "stem": ("conv3x3",),
    "head": ("conv3x3",),
    "down": ("conv2x2",),
    "up": ("pixelshuffle",),
    "skip": ("add",),
    "residual": ("global",),
}


def _value_span(setting: ast.Setting | None, i: int) -> Span | None:
    if setting is None:
        return None
    return setting.value_spans[i] if i < len(setting.value_spans) else setting.span


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class _Checker:
    def __init__(self, file: ast.SpecFile, schemas: Mapping[str, BlockSchema]) -> None:
        self.file = file
        self.schemas = schemas
        self.diags: list[Diagnostic] = []
        self.stage_names = frozenset(s.name.value for a in file.archs[:1] for s in a.stages)

    def error(self, code: str, message: str, span: Span | None, *, help: str | None = None,
              labels: tuple[Label, ...] = ()) -> None:
        self.diags.append(Diagnostic(code, message, span, labels, help))

    # ------------------------------------------------------------------ file
    def run(self) -> Spec | None:
        if not self.file.archs:
            span = self.file.searches[0].span if self.file.searches else None
            self.error("E0201", "the file declares no network", span,
                       help="add an `arch NAME { ... }` block before the search")
            return None
        for extra in self.file.archs[1:]:
            self.error("E0202", "a spec file holds one network; this is a second `arch`",
                       extra.name.span, labels=(Label(self.file.archs[0].name.span, "first declared here"),)
                       if self.file.archs[0].name.span else (),
                       help="put each network in its own .arch file")
        for extra in self.file.searches[1:]:
            self.error("E0203", "a spec file holds one search; this is a second `search`", extra.over.span,
                       help="merge the two search blocks")
        arch = self.file.archs[0]
        settings = self.settings(arch)
        stages = self.stages(arch, settings["width"][0])
        spec = Spec(
            name=arch.name.value,
            in_channels=settings["channels"][0],
            out_channels=settings["channels"][1],
            width=settings["width"][0],
            stem=settings["stem"][0],
            head=settings["head"][0],
            down=settings["down"][0],
            up=settings["up"][0],
            skip=settings["skip"][0],
            residual=settings["residual"][0],
            stages=stages,
            path=self.file.path,
            span=arch.span,
        )
        if self.file.searches and stages:
            spec = attrs.evolve(spec, search=self.search(self.file.searches[0], spec))
        return spec

    # ------------------------------------------------------------------ settings
    def settings(self, arch: ast.ArchDecl) -> dict[str, tuple[Any, ...]]:
        seen: dict[str, ast.Setting] = {}
        for s in arch.settings:
            if s.key in seen:
                first = seen[s.key].span
                self.error("E0210", f"`{s.key}` is set twice", s.span,
                           labels=(Label(first, "first set here"),) if first else (),
                           help="keep one of them")
                continue
            seen[s.key] = s
        values = {k: (seen[k].values if k in seen else v) for k, v in DEFAULTS.items()}
        channels_ok = all(self._channels(c, _value_span(seen.get("channels"), i)) for i, c in
                          enumerate(values["channels"]))
        if not 1 <= values["width"][0] <= MAX_WIDTH:
            self.error("E0212", f"width must be between 1 and {MAX_WIDTH}, not {values['width'][0]}",
                       _value_span(seen.get("width"), 0), help="NAFNet uses 32 or 64")
            values["width"] = (1,)
        cin, cout = values["channels"]
        if channels_ok and values["residual"][0] == "global" and cin != cout:
            where = seen.get("residual") or seen["channels"]
            help = "write `residual none` or make the channel counts equal"
            self.error("E0213", f"a global residual needs as many output channels as input ({cin} != {cout})",
                       where.span, help=help if "residual" in seen else f"`residual global` is the default; {help}")
        return values

    def _channels(self, n: int, span: Span | None) -> bool:
        if 1 <= n <= MAX_CHANNELS:
            return True
        self.error("E0211", f"image channels must be between 1 and {MAX_CHANNELS}, not {n}", span,
                   help="an RGB image has 3 channels: `channels in 3 out 3`")
        return False

    # ------------------------------------------------------------------ stages
    def stages(self, arch: ast.ArchDecl, width: int) -> tuple[Stage, ...]:
        self._check_stage_names(arch)
        self._check_stage_order(arch)
        encoders = [s for s in arch.stages if s.role == "encoder"]
        middles = [s for s in arch.stages if s.role == "middle"]
        decoders = [s for s in arch.stages if s.role == "decoder"]
        levels = len(encoders)
        if not middles:
            self.error("E0222", "the network has no middle stage", arch.name.span,
                       help="add one, e.g. `middle mid: naf`")
        for extra in middles[1:]:
            self.error("E0223", "a network has one middle stage; this is a second", extra.name.span,
                       labels=(Label(middles[0].name.span, "first middle stage"),) if middles[0].name.span else (),
                       help="make it an encoder or a decoder, or merge the two with a repeat count")
        if len(decoders) != len(encoders):
            where = decoders[-1].name.span if decoders else (middles[0].name.span if middles else arch.name.span)
            self.error("E0224", f"{_count(len(decoders), 'decoder')} for {_count(len(encoders), 'encoder')}", where,
                       help="decoders pair with encoders by level, deepest first: declare one decoder per encoder")
        if levels > MAX_LEVELS or width * 2**levels > 2**16:
            self.error("E0225", f"{levels} levels from width {width} is too deep "
                       f"({width * 2**levels} channels in the middle)", arch.name.span,
                       help=f"use at most {MAX_LEVELS} encoders and keep width x 2^levels <= 65536")
            return ()
        out = []
        counters = {"encoder": 0, "middle": 0, "decoder": 0}
        for decl in arch.stages:
            index = counters[decl.role]
            counters[decl.role] += 1
            level = {"encoder": index, "middle": levels, "decoder": levels - 1 - index}[decl.role]
            level = max(level, 0)
            block = self.block(decl.block) or self._stand_in(decl.block)
            repeat = self._repeat(decl)
            if block is not None:
                out.append(Stage(decl.name.value, decl.role, index, level, width * 2**level, block,
                                 repeat, decl.span))
        return tuple(out)

    def _repeat(self, decl: ast.StageDecl) -> int:
        if decl.repeat < 1:
            self.error("E0226", "a stage needs at least one block", decl.repeat_span,
                       help="write `x1` or more; to remove a stage's blocks use the `identity` block")
            return 1
        if decl.repeat > MAX_REPEAT:
            self.error("E0227", f"repeat count {decl.repeat} is too large (at most {MAX_REPEAT})",
                       decl.repeat_span, help="NAFNet's deepest stage repeats 28 blocks")
            return 1
        return decl.repeat

    def _check_stage_names(self, arch: ast.ArchDecl) -> None:
        seen: dict[str, ast.StageDecl] = {}
        for decl in arch.stages:
            first = seen.get(decl.name.value)
            if first is not None:
                self.error("E0220", f"stage `{decl.name.value}` is declared twice", decl.name.span,
                           labels=(Label(first.name.span, "first declared here"),) if first.name.span else (),
                           help="give every stage its own name")
            seen.setdefault(decl.name.value, decl)

    def _check_stage_order(self, arch: ast.ArchDecl) -> None:
        rank = {"encoder": 0, "middle": 1, "decoder": 2}
        highest = 0
        for decl in arch.stages:
            if rank[decl.role] < highest:
                self.error("E0221", f"{decl.role} `{decl.name.value}` is out of order", decl.name.span,
                           help="list the encoders, then the middle stage, then the decoders (deepest first)")
            highest = max(highest, rank[decl.role])

    # ------------------------------------------------------------------ blocks
    def _stand_in(self, ref: ast.BlockRef) -> Block | None:
        """The kind's default block in place of one with bad parameters, so that the stage still
        exists and its slot is not reported as missing too (the error is already recorded)."""
        schema = self.schemas.get(ref.kind)
        try:
            return Block(ref.kind, schema.params(), ref.span) if schema is not None else None
        except (TypeError, ValueError):
            return None

    def block(self, ref: ast.BlockRef) -> Block | None:
        schema = self.schemas.get(ref.kind)
        if schema is None:  # only reachable if a fragment and the registry disagree
            self.error("E0230", f"block `{ref.kind}` has a grammar fragment but no registration", ref.span,
                       help="its plugin must call `register_block` with the same name")
            return None
        fields = {f.name: f for f in attrs.fields(schema.params)}
        values: dict[str, Any] = {}
        ok = True
        seen: dict[str, ast.Param] = {}
        for p in ref.params:
            if p.name in seen:
                self.error("E0231", f"parameter `{p.name}` is given twice", p.span,
                           labels=(Label(seen[p.name].span, "first given here"),) if seen[p.name].span else (),
                           help="keep one of them")
                ok = False
                continue
            seen[p.name] = p
            f = fields.get(p.name)
            if f is None:
                guess = did_you_mean(p.name, fields)
                self.error("E0232", f"`{p.name}` is not a parameter of block `{ref.kind}`", p.span,
                           help=f"did you mean `{guess}`?" if guess else f"its parameters are {quoted_list(fields)}")
                ok = False
                continue
            if f.validator is not None:
                try:
                    f.validator(None, f, p.value)
                except (ValueError, TypeError) as exc:
                    self.error("E0233", f"bad value for parameter `{p.name}` of block `{ref.kind}`",
                               p.value_span or p.span, help=str(exc))
                    ok = False
                    continue
            values[p.name] = p.value
        if not ok:
            return None
        try:
            params = schema.params(**values)
        except (ValueError, TypeError) as exc:
            self.error("E0234", f"bad parameters for block `{ref.kind}`", ref.span,
                       help=f"{exc} (see `archc blocks`)")
            return None
        return Block(ref.kind, params, ref.span)

    # ------------------------------------------------------------------ search
    def search(self, decl: ast.SearchDecl, spec: Spec) -> Search | None:
        if decl.over.value != spec.name:
            self.error("E0240", f"the search is over `{decl.over.value}`, but the network is `{spec.name}`",
                       decl.over.span, help=f"write `search over {spec.name}`")
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
                if slot.name not in fixed_names:
                    self.error("E0245", f"slot `{slot.name}` has no candidates", slot.span or decl.over.span,
                               help=f"add `candidates {slot.name}: ...` or `candidates *: ...`")
                blocks = []
            resolved.append(self._with_candidates(slot, blocks))
        resolved = [self._exclude_candidates(decl, s) for s in resolved]
        searchable = tuple(s for s in resolved if s.name not in fixed_names)
        fixed = tuple(s for s in resolved if s.name in fixed_names)
        rules_top = self._saliency_rules(decl, len(searchable))
        if slots and not searchable:
            self.error("E0246", "every slot is excluded: nothing is left to search", decl.over.span,
                       help="remove an `exclude` line")
        budgets = [i for i in decl.items if isinstance(i, ast.BudgetDecl)]
        for b in budgets:
            if not 1 <= b.value <= MAX_BUDGET:
                self.error("E0247", f"budget must be between 1 and {MAX_BUDGET}, not {b.value}", b.span,
                           help="the budget is how many networks the search evaluates, e.g. `budget 200`")
        for b in budgets[1:]:
            first = (Label(budgets[0].span, "first set here"),) if budgets[0].span else ()
            self.error("E0248", "`budget` is set twice", b.span, labels=first, help="keep one of them")
        return Search(searchable, fixed, rules_top, budgets[0].value if budgets else None, decl.span)

    def _slots(self, decl: ast.SearchDecl, spec: Spec) -> list[Slot] | None:
        decls = [i for i in decl.items if isinstance(i, ast.SlotsDecl)]
        for extra in decls[1:]:
            self.error("E0241", "`slots` is declared twice", extra.span, help="list every slot in one `slots` line")
        if not decls:
            return [Slot(s.name, s.name, 0, s.repeat, s.block, (s.block,), (), s.span) for s in spec.stages]
        out: list[Slot] = []
        covered: dict[tuple[str, int], Slot] = {}
        for ref in decls[0].slots:
            slot = self._slot(ref, spec)
            if slot is None:
                continue
            clash = next((covered[(slot.stage, i)] for i in range(slot.start, slot.stop)
                          if (slot.stage, i) in covered), None)
            if clash is not None:
                self._slot_clash(slot, clash)
                continue
            covered.update({(slot.stage, i): slot for i in range(slot.start, slot.stop)})
            out.append(slot)
        return out

    def _slot_clash(self, slot: Slot, clash: Slot) -> None:
        labels = (Label(clash.span, "first listed here"),) if clash.span else ()
        if slot.name == clash.name:
            self.error("E0257", f"slot `{slot.name}` is listed twice", slot.span, labels=labels,
                       help="remove the second one")
        else:
            self.error("E0242", f"slot `{slot.name}` overlaps slot `{clash.name}`", slot.span, labels=labels,
                       help="slots of one stage must not share blocks")

    def _slot(self, ref: ast.SlotRef, spec: Spec) -> Slot | None:
        try:
            stage = spec.stage(ref.name.value)
        except KeyError:
            guess = did_you_mean(ref.name.value, [s.name for s in spec.stages])
            self.error("E0243", f"no stage named `{ref.name.value}`", ref.name.span,
                       help=f"did you mean `{guess}`?" if guess
                       else f"the stages are {quoted_list(s.name for s in spec.stages)}")
            return None
        start, stop = (0, stage.repeat) if ref.start is None else (ref.start, ref.stop)
        assert start is not None and stop is not None
        if not 0 <= start < stop <= stage.repeat:
            self.error("E0244", f"slice [{start}:{stop}] does not fit stage `{stage.name}` "
                       f"({stage.repeat} block{'s' if stage.repeat > 1 else ''})", ref.span,
                       help=f"use [a:b] with 0 <= a < b <= {stage.repeat}")
            return None
        return Slot(str(ref), stage.name, start, stop, stage.block, (stage.block,), (), ref.span)

    def _lookup(self, ref: ast.SlotRef, names: Mapping[str, Slot], action: str) -> Slot | None:
        """The slot `ref` names; `action` says what the line wanted to do with it."""
        slot = names.get(str(ref))
        if slot is None:
            guess = did_you_mean(str(ref), names)
            help = f"did you mean `{guess}`?" if guess else f"the slots are {quoted_list(names)}"
            if not guess and ref.name.value in self.stage_names:
                help = f"stage `{ref.name.value}` is not a slot here; {help}"
            self.error("E0250", f"cannot {action} `{ref}`: there is no such slot", ref.span, help=help)
        return slot

    def _candidate_rules(self, decl: ast.SearchDecl, names: Mapping[str, Slot]) -> dict[str, list[Block]]:
        rules: dict[str, list[Block]] = {}
        where: dict[str, Span | None] = {}
        for item in (i for i in decl.items if isinstance(i, ast.CandidatesDecl)):
            blocks = self._unique_blocks(item.blocks)
            targets = ["*"] if item.targets is None else [
                s.name for ref in item.targets if (s := self._lookup(ref, names, "give candidates for")) is not None
            ]
            for t in targets:
                if t in rules:
                    label = (Label(where[t], "first given here"),) if where[t] else ()
                    self.error("E0251", f"candidates for `{t}` are given twice", item.span, labels=label,
                               help="list every candidate of a slot in one `candidates` line")
                    continue
                rules[t], where[t] = blocks, item.span
        return rules

    def _unique_blocks(self, refs: tuple[ast.BlockRef, ...]) -> list[Block]:
        out: list[Block] = []
        for ref in refs:
            block = self.block(ref)
            if block is None:
                continue
            if any(b.canonical == block.canonical for b in out):
                self.error("E0252", f"candidate `{block.canonical}` is listed twice", ref.span,
                           help="remove the second one")
                continue
            out.append(block)
        return out

    def _with_candidates(self, slot: Slot, blocks: list[Block]) -> Slot:
        extra = tuple(b for b in blocks if b.canonical != slot.original.canonical)
        return attrs.evolve(slot, candidates=(slot.original, *extra))

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
            block = self.block(item.block)
            if block is None:
                continue
            if block.canonical == slot.original.canonical:
                self.error("E0253", f"`{block.canonical}` is the original block of slot `{slot.name}` "
                           "and cannot be excluded", item.block.span,
                           help=f"to keep the slot fixed, write `exclude {slot.name}`")
            elif block.canonical not in [c.canonical for c in slot.candidates]:
                self.error("E0254", f"`{block.canonical}` is not a candidate of slot `{slot.name}`",
                           item.block.span,
                           help=f"its candidates are {quoted_list(c.canonical for c in slot.candidates)}")
            else:
                removed.append(block.canonical)
        kept = tuple(c for c in slot.candidates if c.canonical not in removed)
        return attrs.evolve(slot, candidates=kept, excluded=tuple(removed))

    def _saliency_rules(self, decl: ast.SearchDecl, n_slots: int) -> tuple[SaliencyRule, ...]:
        out = []
        for item in (i for i in decl.items if isinstance(i, ast.ExcludeTop)):
            if item.metric.value not in SALIENCY_METRICS:
                guess = did_you_mean(item.metric.value, SALIENCY_METRICS)
                self.error("E0255", f"unknown saliency metric `{item.metric.value}`", item.metric.span,
                           help=f"did you mean `{guess}`?" if guess else f"metrics: {quoted_list(SALIENCY_METRICS)}")
                continue
            if not 1 <= item.k < n_slots:
                help = (f"choose K between 1 and {n_slots - 1} so that a slot is left to search" if n_slots > 1
                        else "nothing can be excluded when fewer than two slots are searched; remove this line")
                self.error("E0256", f"cannot exclude the top {item.k} of {_count(n_slots, 'searchable slot')}",
                           item.k_span, help=help)
                continue
            out.append(SaliencyRule(item.k, item.metric.value, item.span))
        return tuple(out)


def _check_unknown_excluded_targets(file: ast.SpecFile, spec: Spec, checker: _Checker) -> None:
    """`exclude SLOT: BLOCK` naming a slot that does not exist."""
    if spec.search is None or not file.searches:
        return
    names = {s.name: s for s in (*spec.search.slots, *spec.search.fixed)}
    for item in file.searches[0].items:
        if isinstance(item, ast.ExcludeSlot) and item.block is not None:
            checker._lookup(item.slot, names, "exclude candidates of")


def check(file: ast.SpecFile, schemas: Mapping[str, BlockSchema], text: str = "") -> Spec:
    """Check a parsed file against the loaded block kinds; raises SemanticError listing every problem."""
    checker = _Checker(file, schemas)
    spec = checker.run()
    if spec is not None:
        _check_unknown_excluded_targets(file, spec, checker)
    if checker.diags or spec is None:
        diags = sorted(checker.diags, key=lambda d: (d.line or 0, d.column or 0))
        raise SemanticError(diags, {file.path: text})
    return attrs.evolve(spec, text=text)
