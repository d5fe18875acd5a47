"""Text -> syntax tree. Syntax errors become diagnostics that speak the user's language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import lark
from lark import Token, Transformer, v_args

from archc.diagnostics import Diagnostic, Span
from archc.errors import SpecSyntaxError

from . import ast
from .grammar import Grammar
from .syntax_errors import char_diagnostic, token_diagnostic

_COMMENT = re.compile(r"#[^\n]*")


def _span(path: str, meta: Any) -> Span | None:
    if getattr(meta, "empty", False) or getattr(meta, "line", None) is None:
        return None
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)


def _value(tok: Token) -> ast.ParamValue:
    kinds = {"INT": int, "FLOAT": float}
    if tok.type in kinds:
        return kinds[tok.type](tok.value)
    if tok.type in ("ON", "OFF"):
        return tok.type == "ON"
    return str(tok.value)


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark tree -> `dsl.ast` nodes. Block rules come from fragments, so they go by name."""

    def __init__(self, path: str, blocks: tuple[str, ...]) -> None:
        super().__init__()
        self.path = path
        self.blocks = frozenset(blocks)

    def _s(self, meta: Any) -> Span | None:
        return _span(self.path, meta)

    def _tok(self, tok: Token) -> Span:
        return Span(self.path, tok.line, tok.column, tok.end_line, tok.end_column)  # type: ignore[arg-type]

    def _name(self, tok: Token) -> ast.Name:
        return ast.Name(str(tok), self._tok(tok))

    # -- network
    def start(self, meta: Any, items: list[Any]) -> ast.SpecFile:
        archs = tuple(i for i in items if isinstance(i, ast.ArchDecl))
        searches = tuple(i for i in items if isinstance(i, ast.SearchDecl))
        return ast.SpecFile(archs, searches, path=self.path)

    def arch(self, meta: Any, c: list[Any]) -> ast.ArchDecl:
        settings = tuple(x for x in c[1:] if isinstance(x, ast.Setting))
        stages = tuple(x for x in c[1:] if isinstance(x, ast.StageDecl))
        return ast.ArchDecl(self._name(c[0]), settings, stages, self._s(meta))

    def channels(self, meta: Any, c: list[Token]) -> ast.Setting:
        return ast.Setting("channels", (int(c[0]), int(c[1])), self._s(meta), (self._tok(c[0]), self._tok(c[1])))

    def width(self, meta: Any, c: list[Token]) -> ast.Setting:
        return ast.Setting("width", (int(c[0]),), self._s(meta), (self._tok(c[0]),))

    def widths(self, meta: Any, c: list[Token]) -> ast.Setting:
        return ast.Setting("widths", tuple(int(t) for t in c), self._s(meta), tuple(self._tok(t) for t in c))

    def checkpoint(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("checkpoint", meta, c)

    def _op(self, key: str, meta: Any, c: list[Any]) -> ast.Setting:
        """`KEYWORD KIND (k=v, ...)?`: the kind is the last token, the options come after it."""
        params = tuple(p for group in c if isinstance(group, tuple) for p in group)
        kinds = [t for t in c if isinstance(t, Token)]
        return ast.Setting(key, (str(kinds[-1]),), self._s(meta), (self._tok(kinds[-1]),), params)

    def stem(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("stem", meta, c)

    def head(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("head", meta, c)

    def down(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("down", meta, c)

    def up(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("up", meta, c)

    def skip_kind(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("skip", meta, c)

    def skip(self, meta: Any, c: list[ast.Setting]) -> ast.Setting:
        return attrs.evolve(c[0], span=self._s(meta))

    def skip_level(self, meta: Any, c: list[Any]) -> ast.Setting:
        kind: ast.Setting = c[1]
        return ast.Setting(
            "skip_level", (int(c[0]), *kind.values), self._s(meta), (self._tok(c[0]), *kind.value_spans), kind.params
        )

    def residual(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("residual", meta, c)

    def pad(self, meta: Any, c: list[Any]) -> ast.Setting:
        return self._op("pad", meta, c)

    def stage(self, meta: Any, c: list[ast.StageDecl]) -> ast.StageDecl:
        return c[0]

    def run(self, meta: Any, c: list[Any]) -> ast.Run:
        if len(c) > 1:
            return ast.Run(c[0], int(str(c[1])[1:]), self._tok(c[1]))
        return ast.Run(c[0])

    def _stage(self, role: str, meta: Any, c: list[Any]) -> ast.StageDecl:
        return ast.StageDecl(role, self._name(c[0]), tuple(c[1:]), self._s(meta))

    def encoder(self, meta: Any, c: list[Any]) -> ast.StageDecl:
        return self._stage("encoder", meta, c)

    def middle(self, meta: Any, c: list[Any]) -> ast.StageDecl:
        return self._stage("middle", meta, c)

    def decoder(self, meta: Any, c: list[Any]) -> ast.StageDecl:
        return self._stage("decoder", meta, c)

    def refine(self, meta: Any, c: list[Any]) -> ast.StageDecl:
        return self._stage("refine", meta, c)

    def block(self, meta: Any, c: list[ast.BlockRef]) -> ast.BlockRef:
        return c[0]

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:
        name = str(data)
        if name in self.blocks:
            params = tuple(p for group in children for p in group)
            return ast.BlockRef(name, params, self._s(meta))
        if name.endswith("_param"):
            key, value = children[0], children[-1]
            return ast.Param(str(key), _value(value), self._s(meta), self._tok(value))
        if name.startswith("args"):
            return tuple(children)
        return super().__default__(data, children, meta)

    # -- search space
    def search(self, meta: Any, c: list[Any]) -> ast.SearchDecl:
        return ast.SearchDecl(self._name(c[0]), tuple(c[1:]), self._s(meta))

    def slot_ref(self, meta: Any, c: list[Token]) -> ast.SlotRef:
        if len(c) == 1:
            return ast.SlotRef(self._name(c[0]), span=self._s(meta))
        return ast.SlotRef(self._name(c[0]), int(c[1]), int(c[2]), self._s(meta))

    def slots(self, meta: Any, c: list[ast.SlotRef]) -> ast.SlotsDecl:
        return ast.SlotsDecl(tuple(c), self._s(meta))

    def all_slots(self, meta: Any, c: list[Any]) -> None:
        return None

    def candidates(self, meta: Any, c: list[Any]) -> ast.CandidatesDecl:
        targets = tuple(x for x in c if isinstance(x, ast.SlotRef)) or None
        blocks = tuple(x for x in c if isinstance(x, ast.BlockRef))
        return ast.CandidatesDecl(targets, blocks, self._s(meta))

    def exclude_slot(self, meta: Any, c: list[Any]) -> ast.ExcludeSlot:
        return ast.ExcludeSlot(c[0], c[1] if len(c) > 1 else None, self._s(meta))

    def exclude_top(self, meta: Any, c: list[Token]) -> ast.ExcludeTop:
        return ast.ExcludeTop(int(c[0]), self._name(c[1]), self._s(meta), self._tok(c[0]))

    def budget(self, meta: Any, c: list[Token]) -> ast.BudgetDecl:
        return ast.BudgetDecl(int(c[0]), self._s(meta))

    def precision(self, meta: Any, c: list[Any]) -> ast.PrecisionDecl:
        targets = tuple(x for x in c if isinstance(x, ast.SlotRef)) or None
        names = tuple(self._name(x) for x in c if isinstance(x, Token))
        return ast.PrecisionDecl(targets, names, self._s(meta))


# ------------------------------------------------------------------ reading and errors


def _binary_error(
    path: str, raw: bytes, pos: int, message: str, help: str = "a spec must be a text file; is this the right path?"
) -> SpecSyntaxError:
    """A spec that is not text: point at the first bad byte, show the line with it made visible."""
    line_start = raw.rfind(b"\n", 0, pos) + 1
    line = raw.count(b"\n", 0, pos) + 1
    col = len(raw[line_start:pos].decode("utf-8", "replace")) + 1
    span = Span(path, line, col, line, col + 1)
    diag = Diagnostic("E0101", message, span, help=help)
    return SpecSyntaxError([diag], {path: raw.decode("utf-8", "replace")})


def _refuse_nul(text: str, path: str) -> None:
    """Text handed over as a string (not read from a file) gets the file reader's NUL check."""
    pos = text.find("\x00")
    if pos >= 0:
        raw = text.encode("utf-8", "surrogatepass")
        at = len(text[:pos].encode("utf-8", "surrogatepass"))
        raise _binary_error(path, raw, at, "this text contains a NUL character", help="remove it; a spec is plain text")


def _to_ast(tree: lark.Tree, text: str, path: str, grammar: Grammar) -> Any:
    """The AST of a parse tree. A rule the tree builder cannot handle is a syntax error at that rule
    (a diagnostic with its line and column), never a traceback."""
    try:
        return _ToAst(path, grammar.blocks).transform(tree)
    except lark.exceptions.VisitError as exc:
        meta = getattr(exc.obj, "meta", None)
        line, col = (getattr(meta, "line", 1), getattr(meta, "column", 1)) if meta is not None else (1, 1)
        span = Span(path, line, col, line, col + 1)
        diag = Diagnostic("E0111", f"cannot read this `{exc.rule}`", span, help="check the text at this place")
        raise SpecSyntaxError([diag], {path: text}) from None


def _decode(raw: bytes, path: str) -> str:
    """Bytes -> text, refusing binary files (NUL bytes or invalid UTF-8) at their first bad byte."""
    nul = raw.find(b"\x00")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if 0 <= nul < exc.start:
            raise _binary_error(path, raw, nul, "this file contains a NUL byte (binary data)") from None
        raise _binary_error(path, raw, exc.start, "this file is not UTF-8 text") from None
    if nul >= 0:
        raise _binary_error(path, raw, nul, "this file contains a NUL byte (binary data)")
    return text


def _looks_like_text(value: str) -> bool:
    """A string argument is spec text (not a path) when it is blank or has a newline, `{` or `#`."""
    return not value.strip() or any(ch in value for ch in "\n{#")


def read_spec_text(path_or_text: str | Path) -> tuple[str, str]:
    """Accepts a path or the text itself; returns `(path, text)`."""
    if not isinstance(path_or_text, Path) and _looks_like_text(path_or_text):
        return "<spec>", path_or_text
    candidate = Path(path_or_text)
    try:
        raw = candidate.read_bytes()
    except FileNotFoundError:
        raise SpecSyntaxError(
            f"no such spec file: {candidate}", code="E0100", help="check the path; specs usually live in `specs/`"
        ) from None
    except IsADirectoryError:
        raise SpecSyntaxError(
            f"{candidate} is a folder, not a spec file", code="E0100", help="name one `.arch` file inside it"
        ) from None
    except OSError as exc:
        raise SpecSyntaxError(f"cannot read {candidate}: {exc.strerror}", code="E0100") from None
    return str(candidate), _decode(raw, str(candidate))


def _comments(text: str, path: str) -> tuple[ast.Comment, ...]:
    out = []
    for m in _COMMENT.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        out.append(ast.Comment(m.group(0), Span(path, line, col, line, col + len(m.group(0)))))
    return tuple(out)


def _parse(text: str, path: str, grammar: Grammar, start: str) -> lark.Tree:
    try:
        return grammar.parser.parse(text, start=start)
    except lark.UnexpectedToken as exc:
        raise SpecSyntaxError([token_diagnostic(exc, grammar, path, text)], {path: text}) from None
    except lark.UnexpectedCharacters as exc:
        raise SpecSyntaxError([char_diagnostic(exc, grammar, path, text, start)], {path: text}) from None


def parse_text(text: str, path: str, grammar: Grammar) -> ast.SpecFile:
    """Parse a whole `.arch` text; raises SpecSyntaxError with one rendered diagnostic."""
    if not _COMMENT.sub("", text).strip():
        message = "the spec is empty" if not text.strip() else "the spec holds only comments"
        diag = Diagnostic(
            "E0108",
            message,
            Span(path, 1, 1, 1, 2),
            help="a spec starts with `arch <name> {` (see specs/nafnet_tiny.arch)",
        )
        raise SpecSyntaxError([diag], {path: text})
    _refuse_nul(text, path)
    tree = _parse(text, path, grammar, "start")
    spec = _to_ast(tree, text, path, grammar)
    return ast.SpecFile(spec.archs, spec.searches, _comments(text, path), path)


def parse_block_text(text: str, grammar: Grammar, path: str = "<choice>") -> ast.BlockRef:
    """Parse one block reference such as `naf(sca=off)` (used for choices given on a command line)."""
    if not text.strip():
        diag = Diagnostic("E0108", "the block is empty", Span(path, 1, 1, 1, 2), help="write a block such as `naf`")
        raise SpecSyntaxError([diag], {path: text})
    _refuse_nul(text, path)
    tree = _parse(text, path, grammar, "block")
    result: ast.BlockRef = _to_ast(tree, text, path, grammar)
    return result
