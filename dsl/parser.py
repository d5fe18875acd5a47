"""Text -> syntax tree. Syntax errors become diagnostics that speak the user's language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lark
from lark import Token, Transformer, v_args

from . import ast
from .diagnostics import Diagnostic, Span, did_you_mean, quoted_list
from .errors import SpecSyntaxError
from .grammar import Grammar

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
        return ast.Setting("channels", (int(c[0]), int(c[1])), self._s(meta))

    def width(self, meta: Any, c: list[Token]) -> ast.Setting:
        return ast.Setting("width", (int(c[0]),), self._s(meta))

    def _op(self, key: str, meta: Any, c: list[Token]) -> ast.Setting:
        return ast.Setting(key, (str(c[-1]),), self._s(meta))

    def stem(self, meta: Any, c: list[Token]) -> ast.Setting:
        return self._op("stem", meta, c)

    def head(self, meta: Any, c: list[Token]) -> ast.Setting:
        return self._op("head", meta, c)

    def down(self, meta: Any, c: list[Token]) -> ast.Setting:
        return self._op("down", meta, c)

    def up(self, meta: Any, c: list[Token]) -> ast.Setting:
        return self._op("up", meta, c)

    def skip(self, meta: Any, c: list[Token]) -> ast.Setting:
        return self._op("skip", meta, c)

    def residual(self, meta: Any, c: list[Token]) -> ast.Setting:
        return self._op("residual", meta, c)

    def stage(self, meta: Any, c: list[ast.StageDecl]) -> ast.StageDecl:
        return c[0]

    def _stage(self, role: str, meta: Any, c: list[Any]) -> ast.StageDecl:
        repeat, repeat_span = 1, None
        if len(c) > 2:
            repeat, repeat_span = int(str(c[2])[1:]), self._tok(c[2])
        return ast.StageDecl(role, self._name(c[0]), c[1], repeat, repeat_span, self._s(meta))

    def encoder(self, meta: Any, c: list[Any]) -> ast.StageDecl:
        return self._stage("encoder", meta, c)

    def middle(self, meta: Any, c: list[Any]) -> ast.StageDecl:
        return self._stage("middle", meta, c)

    def decoder(self, meta: Any, c: list[Any]) -> ast.StageDecl:
        return self._stage("decoder", meta, c)

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


# ------------------------------------------------------------------ reading and errors


def _decode(raw: bytes, path: str) -> str:
    """Bytes -> text, refusing binary files with a position to look at."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        span = Span(path, line, col, line, col + 1)
        raise SpecSyntaxError(
            [Diagnostic("E0101", "this file is not UTF-8 text", span,
                        help="a spec must be a text file; is this the right path?")],
            {path: raw.decode("utf-8", "replace")},
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        col = nul - (text.rfind("\n", 0, nul) + 1) + 1
        span = Span(path, line, col, line, col + 1)
        raise SpecSyntaxError(
            [Diagnostic("E0101", "this file contains a NUL byte (binary data)", span,
                        help="a spec must be a text file; is this the right path?")],
            {path: text.replace("\x00", "?")},
        )
    return text


def read_spec_text(path_or_text: str | Path) -> tuple[str, str]:
    """Accepts a path or the text itself; returns `(path, text)`."""
    candidate = Path(path_or_text) if isinstance(path_or_text, Path) else None
    if candidate is None and "\n" not in str(path_or_text) and "{" not in str(path_or_text):
        candidate = Path(str(path_or_text))
    if candidate is None:
        return "<spec>", str(path_or_text)
    try:
        raw = candidate.read_bytes()
    except FileNotFoundError:
        raise SpecSyntaxError(f"no such spec file: {candidate}", code="E0100",
                              help="check the path; specs usually live in `specs/`") from None
    except OSError as exc:
        raise SpecSyntaxError(f"cannot read {candidate}: {exc.strerror}", code="E0100") from None
    return str(candidate), _decode(raw, str(candidate))


def _end_span(path: str, text: str) -> Span:
    lines = text.splitlines() or [""]
    line = len(lines)
    col = len(lines[-1]) + 1
    return Span(path, line, col, line, col + 1)


def _describe(grammar: Grammar, expected: set[str]) -> str:
    shown = set(expected) - {"_NO_BLOCK"}
    blocks = shown & grammar.block_terminals
    words = sorted(grammar.display.get(t, t.lower()) for t in shown - blocks)
    if blocks:
        words.insert(0, "a block")
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _keywords(grammar: Grammar, expected: set[str]) -> list[str]:
    return [grammar.display[t].strip("`") for t in expected if grammar.display.get(t, "").startswith("`")]


def _param_owner(grammar: Grammar, expected: set[str]) -> str | None:
    for block, keys in grammar.param_keys.items():
        if keys and expected <= keys:
            return block
    return None


def _token_diag(exc: lark.UnexpectedToken, grammar: Grammar, path: str, text: str) -> Diagnostic:
    tok: Token = exc.token
    expected = set(exc.expected) - {"_NO_BLOCK"}
    if tok.type == "$END":
        help = f"expected {_describe(grammar, expected)}"
        if "RBRACE" in expected:
            help += "; is a closing `}` missing?"
        return Diagnostic("E0102", "unexpected end of file", _end_span(path, text), help=help)
    span = Span(path, tok.line, tok.column, tok.end_line, tok.end_column)  # type: ignore[arg-type]
    word = str(tok)
    if expected and expected <= grammar.block_terminals:
        guess = did_you_mean(word, grammar.blocks)
        help = f"did you mean `{guess}`?" if guess else f"loaded blocks: {quoted_list(sorted(grammar.blocks), 40)}"
        return Diagnostic("E0103", f"unknown block `{word}`", span, help=help,
                          note="a new block kind is added with a grammar fragment (see `archc blocks`)")
    owner = _param_owner(grammar, expected)
    if owner is not None:
        keys = sorted(grammar.display[k].strip("`") for k in grammar.param_keys[owner])
        guess = did_you_mean(word, keys)
        help = f"did you mean `{guess}`?" if guess else f"its parameters are {quoted_list(keys)}"
        return Diagnostic("E0104", f"`{word}` is not a parameter of block `{owner}`", span, help=help)
    stack = getattr(getattr(exc, "interactive_parser", None), "parser_state", None)
    values = list(getattr(stack, "value_stack", []) or [])
    if len(values) >= 2 and isinstance(values[-1], Token) and values[-1].type == "EQUAL":
        return Diagnostic("E0105", f"`{word}` is not a valid value for `{values[-2]}`", span,
                          help=f"expected {_describe(grammar, expected)}")
    guess = did_you_mean(word, _keywords(grammar, expected))
    help = f"did you mean `{guess}`?" if guess else f"expected {_describe(grammar, expected)}"
    what = grammar.display.get(tok.type, f"`{word}`")
    what = f"`{word}`" if what.startswith("`") or tok.type == "NAME" else f"{what} `{word}`"
    return Diagnostic("E0106", f"unexpected {what}", span, help=help)


def _char_diag(exc: lark.UnexpectedCharacters, grammar: Grammar, path: str, text: str) -> Diagnostic:
    span = Span(path, exc.line, exc.column, exc.line, exc.column + 1)
    char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
    allowed = set(exc.allowed or ()) - {"_NO_BLOCK", "WS", "COMMENT"}
    help = f"expected {_describe(grammar, allowed)}" if allowed else None
    return Diagnostic("E0107", f"unexpected character `{char}`", span, help=help)


def _comments(text: str, path: str) -> tuple[ast.Comment, ...]:
    out = []
    for m in _COMMENT.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        out.append(ast.Comment(m.group(0), Span(path, line, col, line, col + len(m.group(0)))))
    return tuple(out)


def parse_text(text: str, path: str, grammar: Grammar) -> ast.SpecFile:
    """Parse a whole `.arch` text; raises SpecSyntaxError with one rendered diagnostic."""
    if not text.strip() or not _COMMENT.sub("", text).strip():
        raise SpecSyntaxError(
            [Diagnostic("E0108", "the spec is empty", Span(path, 1, 1, 1, 2),
                        help="a spec starts with `arch NAME {` (see specs/nafnet_tiny.arch)")],
            {path: text},
        )
    try:
        tree = grammar.parser.parse(text, start="start")
    except lark.UnexpectedToken as exc:
        raise SpecSyntaxError([_token_diag(exc, grammar, path, text)], {path: text}) from None
    except lark.UnexpectedCharacters as exc:
        raise SpecSyntaxError([_char_diag(exc, grammar, path, text)], {path: text}) from None
    spec = _ToAst(path, grammar.blocks).transform(tree)
    return ast.SpecFile(spec.archs, spec.searches, _comments(text, path), path)


def parse_block_text(text: str, grammar: Grammar, path: str = "<choice>") -> ast.BlockRef:
    """Parse one block reference such as `naf(sca=off)` (used for choices given on a command line)."""
    try:
        tree = grammar.parser.parse(text, start="block")
    except lark.UnexpectedToken as exc:
        raise SpecSyntaxError([_token_diag(exc, grammar, path, text)], {path: text}) from None
    except lark.UnexpectedCharacters as exc:
        raise SpecSyntaxError([_char_diag(exc, grammar, path, text)], {path: text}) from None
    result: ast.BlockRef = _ToAst(path, grammar.blocks).transform(tree)
    return result
