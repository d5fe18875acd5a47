"""Print a parsed spec in canonical layout: one statement per line, 4-space indent,
parameters as `k=v` joined by `, `, repeat counts only when above one. Comments are kept:
a comment on its own line stays before the statement that followed it, and a comment at the
end of a line stays at the end of that statement's line."""

from __future__ import annotations

from attrs import frozen

from . import ast
from .params import format_value

INDENT = "    "


@frozen
class _Line:
    first: int  # source line where the statement starts (0 when unknown)
    last: int
    text: str


def _params_text(params: tuple[ast.Param, ...]) -> str:
    return "(" + ", ".join(f"{p.name}={format_value(p.value)}" for p in params) + ")" if params else ""


def block_text(ref: ast.BlockRef) -> str:
    return ref.kind + _params_text(ref.params)


def _setting_text(s: ast.Setting) -> str:
    if s.key == "channels":
        return f"channels in {s.values[0]} out {s.values[1]}"
    if s.key == "widths":
        return "widths " + " ".join(str(v) for v in s.values)
    if s.key == "skip_level":
        return f"skip level {s.values[0]}: {s.values[1]}" + _params_text(s.params)
    return f"{s.key} {format_value(s.values[0])}" + _params_text(s.params)


def _stage_text(s: ast.StageDecl) -> str:
    runs = " + ".join(block_text(r.block) + (f" x{r.repeat}" if r.repeat != 1 else "") for r in s.runs)
    return f"{s.role} {s.name.value}: {runs}"


def _item_text(item: ast.SearchItem) -> str:
    if isinstance(item, ast.SlotsDecl):
        return "slots " + ", ".join(str(s) for s in item.slots)
    if isinstance(item, ast.CandidatesDecl):
        targets = "*" if item.targets is None else ", ".join(str(t) for t in item.targets)
        return f"candidates {targets}: " + " | ".join(block_text(b) for b in item.blocks)
    if isinstance(item, ast.ExcludeSlot):
        return f"exclude {item.slot}" + (f": {block_text(item.block)}" if item.block else "")
    if isinstance(item, ast.ExcludeTop):
        return f"exclude top {item.k} by {item.metric.value}"
    if isinstance(item, ast.PrecisionDecl):
        targets = "*" if item.targets is None else ", ".join(str(t) for t in item.targets)
        return f"precision {targets}: " + " | ".join(p.value for p in item.precisions)
    return f"budget {item.value}"


def _line(node: object, text: str) -> _Line:
    span = getattr(node, "span", None)
    return _Line(span.line, span.end_line, text) if span else _Line(0, 0, text)


def _lines(file: ast.SpecFile) -> list[_Line]:
    out: list[_Line] = []
    for arch in file.archs:
        if out:
            out.append(_Line(0, 0, ""))
        head_line = arch.span.line if arch.span else 0
        out.append(_Line(head_line, head_line, f"arch {arch.name.value} {{"))
        out += [_line(s, INDENT + _setting_text(s)) for s in arch.settings]
        if arch.settings and arch.stages:
            out.append(_Line(0, 0, ""))
        out += [_line(s, INDENT + _stage_text(s)) for s in arch.stages]
        end = arch.span.end_line if arch.span else 0
        out.append(_Line(end, end, "}"))
    for search in file.searches:
        out.append(_Line(0, 0, ""))
        head_line = search.span.line if search.span else 0
        out.append(_Line(head_line, head_line, f"search over {search.over.value} {{"))
        out += [_line(i, INDENT + _item_text(i)) for i in search.items]
        end = search.span.end_line if search.span else 0
        out.append(_Line(end, end, "}"))
    return out


def format_file(file: ast.SpecFile) -> str:
    """Canonical text of a parsed file (comments kept)."""
    lines = _lines(file)
    before: dict[int, list[str]] = {}
    trailing: dict[int, list[str]] = {}
    tail: list[str] = []
    for c in file.comments:
        assert c.span is not None
        line = c.span.line
        if not _own_line(file, c):
            owner = [i for i, ln in enumerate(lines) if ln.first and ln.first <= line <= ln.last]
            if owner:
                trailing.setdefault(owner[-1], []).append(c.text)
                continue
        nxt = next((i for i, ln in enumerate(lines) if ln.first > line), None)
        if nxt is None:
            tail.append(c.text)
        else:
            before.setdefault(nxt, []).append(c.text)
    out: list[str] = []
    for i, ln in enumerate(lines):
        indent = INDENT if ln.text.startswith(INDENT) or ln.text == "}" else ""
        out += [indent + c for c in before.get(i, [])]
        out.append(ln.text + "".join(f"  {c}" for c in trailing.get(i, [])))
    out += tail
    return "\n".join(out).rstrip() + "\n"


def _own_line(file: ast.SpecFile, comment: ast.Comment) -> bool:
    assert comment.span is not None
    for arch in file.archs:
        nodes: tuple[ast.Setting | ast.StageDecl, ...] = (*arch.settings, *arch.stages)
        for node in nodes:
            if node.span and node.span.end_line == comment.span.line and node.span.end_column <= comment.span.column:
                return False
        if arch.span and comment.span.line in (arch.span.line, arch.span.end_line):
            return False
    for search in file.searches:
        for item in search.items:
            if item.span and item.span.end_line == comment.span.line and item.span.end_column <= comment.span.column:
                return False
        if search.span and comment.span.line in (search.span.line, search.span.end_line):
            return False
    return True
