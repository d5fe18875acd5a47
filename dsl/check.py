"""Semantic checks: syntax tree -> checked Spec. Every error is collected, then raised once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from archc.diagnostics import Diagnostic, Label, Span, labels_at, quoted_list, unknown_name_help
from archc.errors import SemanticError

from . import ast
from .check_macro import MAX_WIDTH, MacroChecker, decoder_widths, setting_id
from .check_search import MAX_BUDGET, SALIENCY_METRICS, SearchChecker, count
from .grammar import BlockSchema
from .macro import Macro
from .spec import Block, Spec, Stage

# The search limits live with the search checks; they are re-exported for callers of `dsl.check`.
__all__ = [
    "DEFAULTS",
    "MAX_BUDGET",
    "MAX_CHANNELS",
    "MAX_LEVELS",
    "MAX_REPEAT",
    "MAX_WIDTH",
    "SALIENCY_METRICS",
    "check",
]

MAX_REPEAT = 256
MAX_CHANNELS = 64
MAX_LEVELS = 8

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


class _Checker:
    def __init__(self, file: ast.SpecFile, schemas: Mapping[str, BlockSchema]) -> None:
        self.file = file
        self.schemas = schemas
        self.diags: list[Diagnostic] = []
        self.seen: dict[str, ast.Setting] = {}
        self.stage_names = frozenset(s.name.value for a in file.archs[:1] for s in a.stages)

    def error(
        self, code: str, message: str, span: Span | None, *, help: str | None = None, labels: tuple[Label, ...] = ()
    ) -> None:
        self.diags.append(Diagnostic(code, message, span, labels, help))

    # ------------------------------------------------------------------ file
    def run(self) -> Spec | None:
        if not self.file.archs:
            span = self.file.searches[0].span if self.file.searches else None
            self.error(
                "E0201",
                "the file declares no network",
                span,
                help="add an `arch <name> { ... }` block before the search",
            )
            return None
        for extra in self.file.archs[1:]:
            self.error(
                "E0202",
                "a spec file holds one network; this is a second `arch`",
                extra.name.span,
                labels=labels_at(self.file.archs[0].name.span, "first declared here"),
                help="put each network in its own .arch file",
            )
        for extra_search in self.file.searches[1:]:
            self.error(
                "E0203",
                "a spec file holds one search; this is a second `search`",
                extra_search.over.span,
                help="merge the two search blocks",
            )
        arch = self.file.archs[0]
        settings = self.settings(arch)
        macro = MacroChecker(self, self.seen)
        levels = sum(s.role == "encoder" for s in arch.stages)
        ops = macro.ops()
        widths = macro.widths(levels, settings["width"][0])
        every_skip = macro.op("skip")
        skips = macro.skips(levels, every_skip)
        macro.check_unshuffle(ops["down"], widths)
        stages = self.stages(arch, widths, decoder_widths(widths, skips))
        spec = Spec(
            name=arch.name.value,
            in_channels=settings["channels"][0],
            out_channels=settings["channels"][1],
            width=widths[0],
            stem=ops["stem"].kind,
            head=ops["head"].kind,
            down=ops["down"].kind,
            up=ops["up"].kind,
            skip=every_skip.kind,
            residual=ops["residual"].kind,
            stages=stages,
            macro=Macro(ops["stem"], ops["head"], ops["down"], ops["up"], skips, ops["residual"], widths,
                        macro.pad(), macro.checkpoint()),
            path=self.file.path,
            span=arch.span,
        )
        if self.file.searches and stages:
            spec = attrs.evolve(spec, search=SearchChecker(self).run(self.file.searches[0], spec))
        return spec

    # ------------------------------------------------------------------ settings
    def settings(self, arch: ast.ArchDecl) -> dict[str, tuple[Any, ...]]:
        seen: dict[str, ast.Setting] = {}
        for s in arch.settings:
            key = setting_id(s)
            if key in seen:
                first = seen[key].span
                self.error(
                    "E0210",
                    f"`{key}` is set twice",
                    s.span,
                    labels=labels_at(first, "first set here"),
                    help="keep one of them",
                )
                continue
            seen[key] = s
        self.seen = seen
        values: dict[str, tuple[Any, ...]] = {k: (seen[k].values if k in seen else v) for k, v in DEFAULTS.items()}
        channels_ok = all(  # a list, not a generator: report every bad count
            [self._channels(c, _value_span(seen.get("channels"), i)) for i, c in enumerate(values["channels"])]
        )
        if not 1 <= values["width"][0] <= MAX_WIDTH:
            self.error(
                "E0212",
                f"width must be between 1 and {MAX_WIDTH}, not {values['width'][0]}",
                _value_span(seen.get("width"), 0),
                help="NAFNet uses 32 or 64",
            )
            values["width"] = (1,)
        cin, cout = values["channels"]
        if channels_ok and values["residual"][0] == "global" and cin != cout:
            where = seen.get("residual") or seen["channels"]
            help = "write `residual none` or make the channel counts equal"
            self.error(
                "E0213",
                f"a global residual needs as many output channels as input ({cin} != {cout})",
                where.span,
                help=help if "residual" in seen else f"`residual global` is the default; {help}",
            )
        return values

    def _channels(self, n: int, span: Span | None) -> bool:
        if 1 <= n <= MAX_CHANNELS:
            return True
        self.error(
            "E0211",
            f"image channels must be between 1 and {MAX_CHANNELS}, not {n}",
            span,
            help="an RGB image has 3 channels: `channels in 3 out 3`",
        )
        return False

    # ------------------------------------------------------------------ stages
    def stages(self, arch: ast.ArchDecl, widths: tuple[int, ...], dec_widths: list[int]) -> tuple[Stage, ...]:
        self._check_stage_names(arch)
        self._check_stage_order(arch)
        encoders = [s for s in arch.stages if s.role == "encoder"]
        middles = [s for s in arch.stages if s.role == "middle"]
        decoders = [s for s in arch.stages if s.role == "decoder"]
        levels = len(encoders)
        self._check_middle(arch, middles)
        self._check_refine(arch)
        if len(decoders) != len(encoders):
            where = decoders[-1].name.span if decoders else (middles[0].name.span if middles else arch.name.span)
            self.error(
                "E0224",
                f"{count(len(decoders), 'decoder')} for {count(len(encoders), 'encoder')}",
                where,
                help="decoders pair with encoders by level, deepest first: declare one decoder per encoder",
            )
        width = widths[0]
        if levels > MAX_LEVELS or width * 2**levels > 2**16:
            self.error(
                "E0225",
                f"{levels} levels from width {width} is too deep ({width * 2**levels} channels in the middle)",
                arch.name.span,
                help=f"use at most {MAX_LEVELS} encoders and keep width x 2^levels <= 65536",
            )
            return ()
        out = []
        counters = {"encoder": 0, "middle": 0, "decoder": 0, "refine": 0}
        for decl in arch.stages:
            index = counters[decl.role]
            counters[decl.role] += 1
            level = max({"encoder": index, "middle": levels, "decoder": levels - 1 - index}.get(decl.role, 0), 0)
            channels = self._stage_width(decl.role, level, widths, dec_widths)
            runs = tuple((self.block(r.block, channels) or self._stand_in(r.block), self._repeat(r))
                         for r in decl.runs)
            if all(b is not None for b, _ in runs):
                out.append(Stage(decl.name.value, decl.role, index, level, channels,
                                 runs, decl.span))  # type: ignore[arg-type]
            total = sum(n for _, n in runs)
            if total > MAX_REPEAT and len(decl.runs) > 1:
                self.error("E0227", f"stage `{decl.name.value}` has {total} blocks (at most {MAX_REPEAT})",
                           decl.name.span, help="NAFNet's deepest stage repeats 28 blocks")
        return tuple(out)

    @staticmethod
    def _stage_width(role: str, level: int, widths: tuple[int, ...], dec_widths: list[int]) -> int:
        if role == "decoder" and level < len(dec_widths):
            return dec_widths[level]
        if role == "refine":  # after the last decoder, at its width
            return dec_widths[0] if dec_widths else widths[0]
        return widths[min(level, len(widths) - 1)]

    def _check_middle(self, arch: ast.ArchDecl, middles: list[ast.StageDecl]) -> None:
        if not middles:
            self.error(
                "E0222", "the network has no middle stage", arch.name.span, help="add one, e.g. `middle mid: naf`"
            )
        self._no_second(middles, "E0223", "a network has one middle stage", "first middle stage",
                        "make it an encoder or a decoder, or merge the two with a repeat count")

    def _check_refine(self, arch: ast.ArchDecl) -> None:
        self._no_second([s for s in arch.stages if s.role == "refine"], "E0228",
                        "a network has at most one refinement stage", "first refinement stage",
                        "merge the two with runs: `refine r: restormer x2 + naf x2`")

    def _no_second(self, stages: list[ast.StageDecl], code: str, rule: str, first: str, hint: str) -> None:
        """One error per stage after the first of a role that a network has at most once."""
        for extra in stages[1:]:
            self.error(code, f"{rule}; this is a second", extra.name.span,
                       labels=labels_at(stages[0].name.span, first), help=hint)

    def _repeat(self, run: ast.Run) -> int:
        if run.repeat < 1:
            self.error(
                "E0226",
                "a stage needs at least one block",
                run.repeat_span,
                help="write `x1` or more; to remove a stage's blocks use the `identity` block",
            )
            return 1
        if run.repeat > MAX_REPEAT:
            self.error(
                "E0227",
                f"repeat count {run.repeat} is too large (at most {MAX_REPEAT})",
                run.repeat_span,
                help="NAFNet's deepest stage repeats 28 blocks",
            )
            return 1
        return run.repeat

    def _check_stage_names(self, arch: ast.ArchDecl) -> None:
        seen: dict[str, ast.StageDecl] = {}
        for decl in arch.stages:
            first = seen.get(decl.name.value)
            if first is not None:
                self.error(
                    "E0220",
                    f"stage `{decl.name.value}` is declared twice",
                    decl.name.span,
                    labels=labels_at(first.name.span, "first declared here"),
                    help="give every stage its own name",
                )
            seen.setdefault(decl.name.value, decl)

    def _check_stage_order(self, arch: ast.ArchDecl) -> None:
        rank = {"encoder": 0, "middle": 1, "decoder": 2, "refine": 3}
        has_refine = any(d.role == "refine" for d in arch.stages)
        highest = 0
        for decl in arch.stages:
            if rank[decl.role] < highest:
                self.error(
                    "E0221",
                    f"{decl.role} `{decl.name.value}` is out of order",
                    decl.name.span,
                    help="list the encoders, then the middle stage, then the decoders (deepest first)"
                    + (", then the refinement stage" if has_refine else ""),
                )
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

    def block(self, ref: ast.BlockRef, channels: int | None = None) -> Block | None:
        """The checked block of `ref`; with `channels`, also whether it can run at that width."""
        schema = self.schemas.get(ref.kind)
        if schema is None:  # only reachable if a fragment and the registry disagree
            self.error(
                "E0230",
                f"block `{ref.kind}` has a grammar fragment but no registration",
                ref.span,
                help="its plugin must call `register_block` with the same name",
            )
            return None
        fields = {f.name: f for f in attrs.fields(schema.params)}
        values: dict[str, Any] = {}
        ok = True
        seen: dict[str, ast.Param] = {}
        for p in ref.params:
            if p.name in seen:
                self.error(
                    "E0231",
                    f"parameter `{p.name}` is given twice",
                    p.span,
                    labels=labels_at(seen[p.name].span, "first given here"),
                    help="keep one of them",
                )
                ok = False
                continue
            seen[p.name] = p
            f = fields.get(p.name)
            if f is None:
                self.error(
                    "E0232",
                    f"`{p.name}` is not a parameter of block `{ref.kind}`",
                    p.span,
                    help=unknown_name_help(p.name, fields, f"its parameters are {quoted_list(fields, conj='and')}"),
                )
                ok = False
                continue
            if f.validator is not None:
                try:
                    f.validator(None, f, p.value)
                except (ValueError, TypeError) as exc:
                    self.error(
                        "E0233",
                        f"bad value for parameter `{p.name}` of block `{ref.kind}`",
                        p.value_span or p.span,
                        help=str(exc),
                    )
                    ok = False
                    continue
            values[p.name] = p.value
        if not ok:
            return None
        try:
            params = schema.params(**values)
        except (ValueError, TypeError) as exc:
            self.error("E0234", f"bad parameters for block `{ref.kind}`", ref.span, help=f"{exc} (see `archc blocks`)")
            return None
        block = Block(ref.kind, params, ref.span)
        if channels is not None and not self.fits(block, channels, "this stage"):
            return None
        return block

    def fits(self, block: Block, channels: int, where: str) -> bool:
        """A kind may refuse a width (attention heads must divide it): its `fits` says why."""
        fits = getattr(self.schemas.get(block.kind), "fits", None)
        problem = fits(block.params, channels) if fits is not None else None
        if problem:
            self.error("E0235", f"`{block.canonical}` cannot run at width {channels} in {where}", block.span,
                       help=problem)
        return not problem


def check(file: ast.SpecFile, schemas: Mapping[str, BlockSchema], text: str = "") -> Spec:
    """Check a parsed file against the loaded block kinds; raises SemanticError listing every problem."""
    checker = _Checker(file, schemas)
    spec = checker.run()
    if checker.diags or spec is None:
        diags = sorted(checker.diags, key=lambda d: (d.line or 0, d.column or 0))
        raise SemanticError(diags, {file.path: text})
    return attrs.evolve(spec, text=text)
