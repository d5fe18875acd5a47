"""Lark's parse errors -> diagnostics in the user's words: never a raw terminal name.

Each `_token_<case>` function looks at one kind of mistake and returns a diagnostic or None;
`token_diagnostic` tries them in order and the last one always answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from copy import copy
from typing import Any

import lark
from attrs import frozen
from lark import Token

from archc.diagnostics import Diagnostic, Label, Span, did_you_mean, quoted_list, unknown_name_help

from .grammar import Grammar

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HIDDEN = frozenset({"_NO_BLOCK", "WS", "COMMENT"})
# Long alternatives read better as one phrase than as a list of every keyword.
_GROUPS = (
    (
        frozenset({"CHANNELS", "WIDTH", "WIDTHS", "STEM", "HEAD", "DOWN", "UP", "SKIP", "RESIDUAL", "PAD",
                   "CHECKPOINT"}),
        "a setting such as `width`",
    ),
    (frozenset({"ENCODER", "MIDDLE", "DECODER", "REFINE"}), "a stage such as `encoder`"),
)
_CLOSERS = {"LBRACE": "RBRACE", "LPAR": "RPAR", "LSQB": "RSQB"}


def describe(grammar: Grammar, expected: set[str] | frozenset[str]) -> str:
    """`a, b or c`: what the parser could have taken, in the user's words."""
    shown = set(expected) - _HIDDEN
    words = []
    if shown & grammar.block_terminals:
        words.append("a block")
        shown -= grammar.block_terminals
    for group, phrase in _GROUPS:
        if group <= shown:
            words.append(phrase)
            shown -= group
    words = sorted(grammar.display.get(t, t.lower()) for t in shown) + words
    if len(words) <= 1:
        return "".join(words) or "nothing more"
    return ", ".join(words[:-1]) + " or " + words[-1]


def _keywords(grammar: Grammar, expected: frozenset[str]) -> list[str]:
    shown = (grammar.display.get(t, "") for t in expected)
    return [d.strip("`") for d in shown if d.startswith("`") and _WORD.match(d.strip("`"))]


def _accepted(parser: Any, fallback: Iterable[str]) -> frozenset[str]:
    """The terminals the parser state really accepts (LALR's `expected` merges states)."""
    try:
        return frozenset(parser.accepts()) - _HIDDEN
    except Exception:  # accepts() replays the parser; a failure there must not hide the error
        return frozenset(fallback) - _HIDDEN


def end_span(path: str, text: str) -> Span:
    """Just after the last non-blank character: the line a user needs to see at end of file."""
    body = text.rstrip()
    line = body.count("\n") + 1
    col = len(body) - (body.rfind("\n") + 1) + 1
    return Span(path, line, col, line, col + 1)


@frozen
class _Ctx:
    grammar: Grammar
    path: str
    text: str
    tok: Token
    expected: frozenset[str]
    stack: tuple[Any, ...]  # the parser's value stack: tokens not yet reduced are still open
    parser: Any = None  # Lark's interactive parser at the error, to try what would have fitted

    @property
    def word(self) -> str:
        return str(self.tok)

    @property
    def is_word(self) -> bool:
        return bool(_WORD.match(self.word))

    @property
    def span(self) -> Span:
        t = self.tok
        return Span(self.path, t.line, t.column, t.end_line, t.end_column)  # type: ignore[arg-type]

    def tokens(self) -> list[Token]:
        return [v for v in self.stack if isinstance(v, Token)]

    def expected_text(self) -> str:
        return describe(self.grammar, self.expected)


def _unclosed(c: _Ctx) -> tuple[tuple[Label, ...], str]:
    """A label on the innermost bracket still open, and a hint when its closer would fit here."""
    opener = next((t for t in reversed(c.tokens()) if t.type in _CLOSERS), None)
    if opener is None or (c.tok.type != "$END" and opener.line == c.tok.line):
        return (), ""
    closer = _CLOSERS[opener.type]
    if c.tok.type != "$END" and not _fits_after(c, closer):
        return (), ""  # closing the bracket would not help: the token is wrong for another reason
    span = Span(c.path, opener.line, opener.column, opener.end_line, opener.end_column)  # type: ignore[arg-type]
    label = (Label(span, f"this `{opener}` is not closed"),)
    return label, (f"; is a closing {c.grammar.display[closer]} missing?" if closer in c.expected else "")


def _fits_after(c: _Ctx, closer: str) -> bool:
    """Would the offending token be accepted once `closer` were inserted before it?"""
    if closer not in c.expected or c.parser is None:
        return False
    trial = c.parser.copy(deepcopy_values=False)
    trial.parser_state.parse_conf = copy(trial.parser_state.parse_conf)
    trial.parser_state.parse_conf.callbacks = {}  # no tree building: this is only a trial
    try:
        trial.feed_token(Token(closer, ""))
    except lark.UnexpectedInput:
        return False
    return c.tok.type in _accepted(trial, ())


def _token_at_end(c: _Ctx) -> Diagnostic | None:
    if c.tok.type != "$END":
        return None
    labels, hint = _unclosed(c)
    return Diagnostic(
        "E0102", "unexpected end of file", end_span(c.path, c.text), labels, f"expected {c.expected_text()}{hint}"
    )


def _owner_block(c: _Ctx) -> str | None:
    """The block whose parameter list the parser is in, from the last block keyword seen."""
    kw = next((t for t in reversed(c.tokens()) if t.type in c.grammar.block_terminals), None)
    return None if kw is None else str(kw)


def _token_unknown_block(c: _Ctx) -> Diagnostic | None:
    if not (c.expected and c.expected <= c.grammar.block_terminals and c.is_word):
        return None
    blocks = sorted(c.grammar.blocks)
    help = unknown_name_help(c.word, blocks, f"the loaded blocks are {quoted_list(blocks, 40, 'and')}")
    return Diagnostic(
        "E0103",
        f"unknown block `{c.word}`",
        c.span,
        help=help,
        note="a new block kind is added with a grammar fragment (see `archc blocks`)",
    )


def _token_no_params(c: _Ctx) -> Diagnostic | None:
    last = c.stack[-1] if c.stack else None
    if c.tok.type != "LPAR" or not isinstance(last, Token) or last.type not in c.grammar.block_terminals:
        return None
    return Diagnostic("E0109", f"block `{last}` takes no parameters", c.span, help=f"write `{last}` alone")


def _token_unknown_param(c: _Ctx) -> Diagnostic | None:
    owner = _owner_block(c)
    keys = c.grammar.param_keys.get(owner or "", frozenset())
    if owner is None or not keys or not c.expected <= keys or not c.is_word:
        return None
    names = sorted(c.grammar.display[k].strip("`") for k in keys)
    help = unknown_name_help(c.word, names, f"its parameters are {quoted_list(names, conj='and')}")
    return Diagnostic("E0104", f"`{c.word}` is not a parameter of block `{owner}`", c.span, help=help)


def _token_bad_value(c: _Ctx) -> Diagnostic | None:
    if len(c.stack) < 2 or not isinstance(c.stack[-1], Token) or c.stack[-1].type != "EQUAL":
        return None
    help = unknown_name_help(c.word, _keywords(c.grammar, c.expected), f"expected {c.expected_text()}")
    return Diagnostic("E0105", f"`{c.word}` is not a valid value for `{c.stack[-2]}`", c.span, help=help)


def _token_reserved(c: _Ctx) -> Diagnostic | None:
    if "NAME" not in c.expected or c.tok.type == "NAME" or not c.is_word:
        return None
    if c.tok.type == "REPEAT":
        return Diagnostic(
            "E0110",
            f"`{c.word}` reads as a repeat count, not a name",
            c.span,
            help="a name cannot be `x` followed by digits; choose another name",
        )
    return Diagnostic(
        "E0110", f"`{c.word}` is a keyword and cannot be used as a name", c.span, help="choose another name"
    )


def _token_unexpected(c: _Ctx) -> Diagnostic:
    guess = did_you_mean(c.word, _keywords(c.grammar, c.expected)) if c.is_word else None
    help = f"did you mean `{guess}`?" if guess else f"expected {c.expected_text()}"
    if c.tok.type == "RBRACE" and c.expected <= {"ARCH", "SEARCH", "$END"}:
        help += "; is this `}` one too many?"
    if c.tok.type == "RPAR" and c.tokens() and c.tokens()[-1].type == "COMMA":
        help += "; is the `,` before it one too many?"
    labels, hint = _unclosed(c) if not guess else ((), "")
    return Diagnostic("E0106", f"unexpected `{c.word}`", c.span, labels, help + hint)


_TOKEN_CASES: tuple[Callable[[_Ctx], Diagnostic | None], ...] = (
    _token_at_end,
    _token_unknown_block,
    _token_no_params,
    _token_unknown_param,
    _token_bad_value,
    _token_reserved,
)


def token_diagnostic(exc: lark.UnexpectedToken, grammar: Grammar, path: str, text: str) -> Diagnostic:
    """The diagnostic for a token the grammar does not allow where it stands."""
    parser = exc.interactive_parser
    stack = tuple(getattr(getattr(parser, "parser_state", None), "value_stack", ()) or ())
    c = _Ctx(grammar, path, text, exc.token, _accepted(parser, exc.expected), stack, parser)
    for case in _TOKEN_CASES:
        diag = case(c)
        if diag is not None:
            return diag
    return _token_unexpected(c)


def char_diagnostic(exc: lark.UnexpectedCharacters, grammar: Grammar, path: str, text: str, start: str) -> Diagnostic:
    """The diagnostic for a character that starts no token at all (`@`, `.` in `2.5`, ...)."""
    pos = exc.pos_in_stream or 0
    char = text[pos] if pos < len(text) else "?"
    shown = f"`{char}`" if char.isprintable() else f"U+{ord(char):04X}"
    span = Span(path, exc.line, exc.column, exc.line, exc.column + 1)
    expected = _expected_before(grammar, text, start)
    help = f"expected {describe(grammar, expected)}" if expected else "remove it"
    if char == "." and text[pos - 1 : pos].isdigit():
        help += "; decimal numbers are not part of the language"
    return Diagnostic("E0107", f"unexpected character {shown}", span, help=help)


def _expected_before(grammar: Grammar, text: str, start: str) -> frozenset[str]:
    """Replay the parse up to the bad character; the basic lexer's own `allowed` is every terminal."""
    parser = grammar.parser.parse_interactive(text, start=start)
    try:
        for _ in parser.iter_parse():
            pass
    except lark.UnexpectedCharacters:
        return _accepted(parser, ())
    except lark.UnexpectedInput:
        return frozenset()
    return frozenset()
