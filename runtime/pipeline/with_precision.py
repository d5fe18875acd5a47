"""A run's precision search: the spec with `precision *: P1 | P2` added to its search block."""

from __future__ import annotations

from pathlib import Path

from archc.compiler.files import write_text_atomic
from archc.compiler.frontend import parse
from archc.dsl.spec import Spec
from archc.errors import SearchError


def with_precision(spec: Spec, precision: str, out: Path) -> Path:
    """`spec` with `precision *: P1 | P2` added to its search, written to OUT/<name>.precision.arch."""
    if spec.search is None or spec.search.span is None:
        raise SearchError(
            "--precision searches precision, and the spec has no search",
            code="E0716",
            help="add a `search { ... }` block to the spec, or drop --precision",
        )
    if spec.search.has_precision:
        raise SearchError("the spec's search has a `precision` line already", code="E0716", help="drop --precision")
    listed = " | ".join(p.strip() for p in precision.split(",") if p.strip())
    lines = spec.text.splitlines(keepends=True)
    end = spec.search.span
    line = lines[end.end_line - 1]
    brace = line.rindex("}", 0, end.end_column)
    before = line[:brace] + ("\n" if line[:brace].strip() else "")
    lines[end.end_line - 1] = f"{before}    precision *: {listed}\n{line[brace:]}"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{spec.name}.precision.arch"
    write_text_atomic(path, "".join(lines))
    parse(path)  # an unknown precision is the spec checker's error, pointing into this file
    return path
