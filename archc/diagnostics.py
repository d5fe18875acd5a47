"""One diagnostics model for every user-facing error: spans, labels, help (with the "did you mean" for an
unknown name), and two renderers. Every layer uses it, so it imports nothing of archc."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import field, frozen


@frozen
class Span:
    """A region of a source file; lines and columns are 1-based, `end_column` is exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


@frozen
class Label:
    """A secondary span with a short note, e.g. where a duplicate was first declared."""

    span: Span
    message: str


def labels_at(span: Span | None, message: str) -> tuple[Label, ...]:
    """One label, or none where the span is unknown (a node built by code, not parsed)."""
    return (Label(span, message),) if span is not None else ()


@frozen
class Diagnostic:
    """One problem: a stable code, a message, where it is, and how to fix it."""

    code: str
    message: str
    span: Span | None = None
    labels: tuple[Label, ...] = ()
    help: str | None = None
    severity: str = "error"
    note: str | None = field(default=None)

    @property
    def file(self) -> str | None:
        return self.span.path if self.span else None

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "span": self.span.to_json() if self.span else None,
            "labels": [{"span": lb.span.to_json(), "message": lb.message} for lb in self.labels],
            "help": self.help,
        }


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to a misspelt `word`, or None when nothing is close."""
    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_name_help(word: str, known: Iterable[str], otherwise: str, *, shown: str = "`{}`",
                      always: bool = False) -> str:
    """The help for an unknown `word`: "did you mean `guess`?" where one of `known` is close, else
    `otherwise` (what is known, or where to look). `always` keeps `otherwise` after the guess too
    ("did you mean `x`? known: ..."); `shown` is how the guess is written (e.g. "`[{}]`")."""
    guess = did_you_mean(word, known)
    if guess is None:
        return otherwise
    question = f"did you mean {shown.format(guess)}?"
    return f"{question} {otherwise}" if always else question


def quoted_list(words: Iterable[str], limit: int = 12, conj: str = "or") -> str:
    """`a`, `b` or `c` (`conj="and"` to enumerate rather than offer a choice)."""
    items = [f"`{w}`" for w in words]
    if len(items) > limit:
        items = [*items[:limit], f"... ({len(items) - limit} more)"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _source_line(text: str, line: int) -> str:
    """The line as a terminal can show it: control characters (a NUL, an escape) become U+FFFD."""
    lines = text.splitlines()
    src = lines[line - 1] if 0 < line <= len(lines) else ""
    return "".join(ch if ch == "\t" or ch.isprintable() else "\ufffd" for ch in src)


def _caret_line(span: Span, source_line: str) -> str:
    start = max(span.column - 1, 0)
    end = span.end_column - 1 if span.end_line == span.line else len(source_line)
    width = max(end - start, 1)
    prefix = "".join(ch if ch == "\t" else " " for ch in source_line[:start])
    return prefix + "^" * width


def _render_snippet(span: Span, text: str, note: str, gutter: int) -> list[str]:
    src = _source_line(text, span.line)
    pad = " " * gutter
    caret = _caret_line(span, src)
    return [
        f"{pad} |",
        f"{span.line:>{gutter}} | {src}",
        f"{pad} | {caret}{(' ' + note) if note else ''}",
    ]


def render_text(diag: Diagnostic, sources: Mapping[str, str]) -> str:
    """Render like a compiler: `path:line:col`, the line, a caret under the token, help."""
    out = [f"{diag.severity}[{diag.code}]: {diag.message}"]
    spans = [s for s in [diag.span, *(lb.span for lb in diag.labels)] if s is not None]
    gutter = max((len(str(s.line)) for s in spans), default=1)
    if diag.span is not None:
        out.append(f"{' ' * gutter}--> {diag.span}")
        text = sources.get(diag.span.path)
        if text is not None:
            out += _render_snippet(diag.span, text, "", gutter)
    for label in diag.labels:
        text = sources.get(label.span.path)
        if text is None:
            out.append(f"{' ' * gutter} = {label.span}: {label.message}")
            continue
        out.append(f"{' ' * gutter}::: {label.span}")
        out += _render_snippet(label.span, text, label.message, gutter)
    if diag.note:
        out.append(f"note: {diag.note}")
    if diag.help:
        out.append(f"help: {diag.help}")
    return "\n".join(out)


def render_all(diags: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    body = "\n\n".join(render_text(d, sources) for d in diags)
    errors = sum(d.severity == "error" for d in diags)
    if errors > 1:
        body += f"\n\n{errors} errors"
    return body


def render_json(diags: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    return [d.to_json() for d in diags]
