"""Compose the core grammar with the loaded block fragments into one LALR parser."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Protocol

import lark
from attrs import frozen

from archc.diagnostics import Diagnostic, Span, quoted_list
from archc.errors import RegistryError

from .macro import grammar_rules

_COLLIDING_RULE = re.compile(r"<([a-z_][a-z0-9_]*) :")
_RULE_DEF = re.compile(r"^[!?]?([a-z_][a-z0-9_]*)\s*(?:\{[^}]*\})?\s*:", re.MULTILINE)


class BlockSchema(Protocol):
    """What the front end needs to know of a block kind (its runtime half lives elsewhere)."""

    @property
    def name(self) -> str: ...

    @property
    def fragment(self) -> Path: ...

    @property
    def params(self) -> type: ...


@frozen
class Grammar:
    """A composed parser plus what error messages need to speak about it."""

    parser: lark.Lark
    blocks: tuple[str, ...]
    display: dict[str, str]  # terminal name -> how a user sees it
    param_keys: dict[str, frozenset[str]]  # block -> terminal names of its parameter keys

    @property
    def block_terminals(self) -> frozenset[str]:
        return frozenset(name.upper() for name in self.blocks)


MACRO_MARK = "// <macro operations>"


def core_text() -> str:
    """grammar/archc.lark with the macro operations' rules written in from their table (dsl/macro.py)."""
    text = resources.files("archc.grammar").joinpath("archc.lark").read_text(encoding="utf-8")
    return text.replace(MACRO_MARK, grammar_rules(), 1)


def _check_fragment(name: str, path: Path, text: str) -> None:
    """A fragment may only add rules named after its block, and must extend `block`."""

    def fail(message: str, help: str) -> RegistryError:
        span = Span(str(path), 1, 1, 1, 2)
        diag = Diagnostic(code="E0901", message=message, span=span, help=help)
        return RegistryError([diag], {str(path): text})

    if not re.search(rf"^%extend\s+block\s*:\s*{re.escape(name)}\s*$", text, re.MULTILINE):
        raise fail(
            f"grammar fragment for block `{name}` does not extend the block rule",
            f"add the line `%extend block: {name}`",
        )
    for rule in _RULE_DEF.findall(text):
        if rule != name and not rule.startswith(f"{name}_"):
            raise fail(
                f"grammar fragment for block `{name}` defines rule `{rule}`",
                f"name every rule of this fragment `{name}` or `{name}_...`",
            )


def _display_names(parser: lark.Lark) -> dict[str, str]:
    described = {
        "NAME": "a name",
        "INT": "a whole number",
        "FLOAT": "a decimal number",
        "REPEAT": "a repeat count such as `x2`",
        "$END": "the end of the file",
    }
    out: dict[str, str] = {}
    for term in parser.terminals:
        if term.name in described:
            out[term.name] = described[term.name]
        elif isinstance(term.pattern, lark.lexer.PatternStr):
            out[term.name] = f"`{term.pattern.value}`"
        else:
            out[term.name] = term.name.lower()
    out["$END"] = described["$END"]
    return out


def _param_keys(parser: lark.Lark, blocks: Iterable[str]) -> dict[str, frozenset[str]]:
    keys: dict[str, set[str]] = {b: set() for b in blocks}
    for rule in parser.rules:
        origin = rule.origin.name
        origin = origin if isinstance(origin, str) else str(origin)
        block = origin[: -len("_param")] if origin.endswith("_param") else None
        if block in keys and rule.expansion:
            keys[block].add(rule.expansion[0].name)
    return {b: frozenset(v) for b, v in keys.items()}


def _owner(rule: str, blocks: Iterable[str]) -> str | None:
    """The block whose fragment defines `rule` (the longest name that prefixes it: `naf_bn_param`)."""
    owners = [b for b in blocks if rule == b or rule.startswith(f"{b}_")]
    return max(owners, key=len, default=None)


def _compose_error(exc: Exception, blocks: list[str]) -> RegistryError:
    """Name the fragments that clash rather than quote Lark's collision report."""
    rules = set(_COLLIDING_RULE.findall(str(exc)))
    clashing = sorted({o for r in rules if (o := _owner(r, blocks)) is not None})
    if len(clashing) >= 2:
        return RegistryError(
            f"the grammar fragments of blocks {quoted_list(clashing, conj='and')} do not compose: "
            "the same text could be read as either block",
            help="give every block its own keyword (a fragment's keyword is usually its block name)",
            code="E0902",
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return RegistryError(
        f"the block grammar fragments ({', '.join(blocks)}) do not compose: {first}",
        help="check the fragments added last (`archc blocks` lists where each comes from)",
        code="E0902",
    )


def _cache_file(text: str) -> str | bool:
    """A per-user file where Lark keeps this grammar's parser tables between runs, or False.

    Building the LALR tables and checking terminal collisions takes most of a second, which
    `archc check` and every editor call would pay on each start. Lark checks the file against a
    hash of the grammar, its options and its own version, and rebuilds (and rewrites) the tables
    when the file is stale or damaged. `ARCHC_GRAMMAR_CACHE=0` turns the cache off.
    """
    if os.environ.get("ARCHC_GRAMMAR_CACHE") == "0":
        return False
    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "archc"
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # no home, read-only file system: build every time
        return False
    return str(folder / f"grammar-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}.lark-cache")


@functools.lru_cache(maxsize=16)
def _build(core: str, fragments: tuple[tuple[str, str, str], ...]) -> Grammar:
    text = core + "".join(f"\n// ---- {path}\n{body}\n" for _, path, body in fragments)
    try:
        parser = lark.Lark(
            text,
            parser="lalr",
            lexer="basic",
            start=["start", "block"],
            propagate_positions=True,
            maybe_placeholders=False,
            strict=True,
            cache=_cache_file(text),
        )
    except lark.exceptions.GrammarError as exc:
        raise _compose_error(exc, [name for name, _, _ in fragments]) from exc
    blocks = tuple(name for name, _, _ in fragments)
    return Grammar(parser, blocks, _display_names(parser), _param_keys(parser, blocks))


def compose(schemas: Iterable[BlockSchema]) -> Grammar:
    """The parser for the core language plus one fragment per block schema (built once)."""
    fragments = []
    for schema in sorted(schemas, key=lambda s: s.name):
        path = Path(schema.fragment)
        try:
            body = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RegistryError(
                f"cannot read grammar fragment `{path}` of block `{schema.name}`: {exc.strerror}",
                code="E0903",
            ) from exc
        _check_fragment(schema.name, path, body)
        fragments.append((schema.name, str(path), body))
    return _build(core_text(), tuple(fragments))
