"""Semantic checks of a network's macro settings: operation options, per-level widths and skips,
padding and checkpoint layout. Errors go to the network checker (`dsl.check`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from archc.diagnostics import Label, Span, labels_at, quoted_list

from . import ast
from .macro import ACTIVATIONS, KINDS, Op

MAX_WIDTH = 1024
OP_SETTINGS = ("stem", "head", "down", "up", "residual")


class Errors(Protocol):
    def error(
        self, code: str, message: str, span: Span | None, *, help: str | None = None, labels: tuple[Label, ...] = ()
    ) -> None: ...


def setting_id(s: ast.Setting) -> str:
    """What makes two settings the same one: `skip level 1` twice is a repeat, levels 1 and 2 are not."""
    return f"skip level {s.values[0]}" if s.key == "skip_level" else s.key


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class MacroChecker:
    """Resolves the macro settings of one `arch` (already de-duplicated by `setting_id`)."""

    def __init__(self, net: Errors, seen: Mapping[str, ast.Setting]) -> None:
        self.error = net.error
        self.seen = seen

    # ------------------------------------------------------------------ operations
    def op(self, key: str, s: ast.Setting | None = None) -> Op:
        """The Op of setting `key` (or of `s`, a skip line); the kind's defaults where it is absent."""
        s = s if s is not None else self.seen.get(key)
        if s is None:
            return Op.default(key, next(iter(KINDS[key])))
        kind = str(s.values[-1])
        op = Op.default(key, kind)
        given: dict[str, ast.Param] = {}
        for p in s.params:
            if p.name in given:
                self.error("E0215", f"option `{p.name}` is given twice", p.span,
                           labels=labels_at(given[p.name].span, "first given here"), help="keep one of them")
                continue
            given[p.name] = p
            if not op.has_conv:
                self._no_options(key, kind, p)
        bias = given["bias"].value if "bias" in given and op.has_conv else op.bias
        act = given["act"].value if "act" in given and op.has_conv else "none"
        assert isinstance(bias, bool) and isinstance(act, str) and act in ACTIVATIONS  # the grammar allows no other
        return Op(kind, bias, act, s.span)

    def _no_options(self, key: str, kind: str, p: ast.Param) -> None:
        convs = [name for name, k in KINDS[key].items() if k.bias is not None]
        if convs:
            hint = f"remove the options, or use {quoted_list(convs)}, which {'has' if len(convs) == 1 else 'have'} one"
        else:
            hint = "remove the options"
        self.error("E0214", f"`{p.name}` does not apply to `{key} {kind}`: it has no convolution", p.span,
                   help=hint)

    def ops(self) -> dict[str, Op]:
        return {key: self.op(key) for key in OP_SETTINGS}

    def pad(self) -> str:
        s = self.seen.get("pad")
        return "auto" if s is None else str(s.values[0])

    def checkpoint(self) -> str:
        s = self.seen.get("checkpoint")
        return "archc" if s is None else str(s.values[0])  # the grammar lists the layouts

    # ------------------------------------------------------------------ per level
    def skips(self, levels: int, every: Op) -> tuple[Op, ...]:
        """`every` (the `skip` line's op) at each level that no `skip level N` line names."""
        out = [every] * levels
        for s in self.seen.values():
            if s.key != "skip_level":
                continue
            level = int(s.values[0])
            if not 1 <= level <= levels:
                self.error("E0218", f"there is no level {level}: the network has {count(levels, 'level')}",
                           s.value_spans[0] if s.value_spans else s.span,
                           help=f"levels are numbered from 1 (full resolution) to {max(levels, 1)}")
                continue
            out[level - 1] = self.op("skip", s)
        return tuple(out)

    def widths(self, levels: int, width: int) -> tuple[int, ...]:
        """One width per level and the middle's: `widths` as written, else `width` doubled per level."""
        s = self.seen.get("widths")
        if s is None:
            return tuple(width * 2**level for level in range(levels + 1))
        if "width" in self.seen:
            self.error("E0217", "`width` and `widths` are both set", s.span,
                       labels=labels_at(self.seen["width"].span, "`width` set here"),
                       help="keep `widths` (one per level) or `width` (doubled at every level)")
        values = [int(v) for v in s.values]
        if len(values) != levels + 1:
            self.error("E0216", f"`widths` lists {count(len(values), 'width')} for {count(levels, 'level')} "
                       f"and a middle stage", s.span,
                       help=f"write {levels + 1}: one per encoder level, full resolution first, then the middle's")
        for v, span in zip(values, s.value_spans, strict=False):
            if not 1 <= v <= MAX_WIDTH:
                self.error("E0212", f"width must be between 1 and {MAX_WIDTH}, not {v}", span,
                           help="Restormer uses 48 96 192 384")
        values = [min(max(v, 1), MAX_WIDTH) for v in values]
        return tuple((values + [values[-1]] * (levels + 1))[: levels + 1])

    def check_unshuffle(self, down: Op, widths: Sequence[int]) -> None:
        """conv3x3 + pixel-unshuffle makes 4 channels of each one: the next width must divide by 4."""
        if down.kind != "conv3x3_unshuffle":
            return
        for level, w in enumerate(widths[1:], start=2):
            if w % 4:
                self.error("E0219", f"`down conv3x3_unshuffle` cannot reach width {w} at level {level}",
                           down.span, help="pixel-unshuffle multiplies channels by 4: make every width "
                           "after the first a multiple of 4")
                return


def decoder_widths(widths: Sequence[int], skips: Sequence[Op]) -> list[int]:
    """Each level's decoder width: its skip's output (concat doubles the level's width)."""
    return [2 * w if op.kind == "concat" else w for w, op in zip(widths, skips, strict=False)]
