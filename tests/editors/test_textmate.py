"""The VS Code extension's TextMate grammar (editors/vscode), run through vscode-textmate and
vscode-oniguruma (the engine VS Code runs) by a small node script.

The expectations come from the composed Lark grammar, not from a list kept here: every token the
Lark lexer finds in a shipped spec must carry its kind's scope, and every keyword of the core
grammar and of every shipped block fragment must be scoped, so a new keyword or block without a
scope fails. Without node or the npm packages the tests skip (.ci/run installs them and sets ARCHC_REQUIRE_NODE).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import lark
import pytest

from archc.compiler.blocks import all_blocks
from archc.compiler.blocks.registry import shipped_fragment
from archc.dsl.grammar import Grammar, compose

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
SPECS = sorted((ROOT / "specs").glob("*.arch"))
NODE = shutil.which("node")

Token = dict[str, Any]  # {start, end, scopes}: one TextMate token of one line
KEYWORD_SCOPES = ("keyword.", "storage.type.", "support.constant.", "constant.language.")
BLOCK_SCOPE = "support.function.block.arch"
PARAM_SCOPE = "variable.parameter.arch"
PUNCTUATION_SCOPES = ("punctuation.", "keyword.operator.")
SCOPE_OF_TERMINAL = {
    "COMMENT": ("comment.line.number-sign.arch",),
    "INT": ("constant.numeric.integer.arch",),
    "FLOAT": ("constant.numeric.float.arch",),
    "REPEAT": ("constant.numeric.repeat.arch",),
}


def _missing() -> str | None:
    if NODE is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not (EXTENSION / "node_modules" / "vscode-textmate").is_dir():
        return "the extension's test packages are not installed (npm ci --prefix editors/vscode)"
    return None


def _literals(grammar: Grammar) -> dict[str, str]:
    """Terminal name -> its text, for every string literal of the composed grammar a user can type."""
    return {
        t.name: t.pattern.value
        for t in grammar.parser.terminals
        if isinstance(t.pattern, lark.lexer.PatternStr) and t.pattern.value.isprintable()
    }


def _expected(grammar: Grammar) -> dict[str, tuple[str, ...]]:
    """Terminal name -> the scopes (prefixes) its tokens may carry."""
    params = {name for keys in grammar.param_keys.values() for name in keys}
    out = dict(SCOPE_OF_TERMINAL)
    for name, text in _literals(grammar).items():
        if text in grammar.blocks:
            out[name] = (BLOCK_SCOPE,)
        elif name in params:
            out[name] = (PARAM_SCOPE,)
        else:
            out[name] = KEYWORD_SCOPES if text.isidentifier() else PUNCTUATION_SCOPES
    return out


def _shipped_grammar() -> Grammar:
    """The core grammar plus the shipped block fragments only (a test's plugin block is no editor's concern)."""
    shipped = shipped_fragment("naf").parent
    return compose(b for b in all_blocks().values() if Path(b.fragment).parent == shipped)


GRAMMAR = _shipped_grammar()
EXPECTED = _expected(GRAMMAR)
LITERALS = _literals(GRAMMAR)


@pytest.fixture(scope="module")
def tokenize() -> Any:
    reason = _missing()
    if reason is not None:
        if os.environ.get("ARCHC_REQUIRE_NODE"):
            pytest.fail(f"ARCHC_REQUIRE_NODE is set but {reason}")
        pytest.skip(reason)

    def run(texts: list[str]) -> list[list[list[Token]]]:
        out = subprocess.run(
            [str(NODE), str(EXTENSION / "test" / "tokenize.js")],
            input=json.dumps({"texts": texts}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    return run


def _scopes_over(line: list[Token], start: int, end: int) -> list[list[str]]:
    """The scopes of every TextMate token overlapping columns [start, end) of a line."""
    return [t["scopes"] for t in line if t["start"] < end and t["end"] > start]


def _carries(scopes: list[str], allowed: tuple[str, ...]) -> bool:
    return any(s.startswith(prefix) for s in scopes for prefix in allowed)


def _mismatches(text: str, lines: list[list[Token]]) -> list[str]:
    wrong = []
    for tok in GRAMMAR.parser.lex(text, dont_ignore=True):
        allowed = EXPECTED.get(tok.type)
        if allowed is None:  # names, white space: free-form
            continue
        assert tok.line is not None and tok.column is not None
        start = tok.column - 1
        for scopes in _scopes_over(lines[tok.line - 1], start, start + len(tok)):
            if not _carries(scopes, allowed):
                wrong.append(f"{tok.line}:{tok.column} {tok.type} {str(tok)!r}: {scopes[1:]} (want {allowed})")
    return wrong


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_every_token_of_a_shipped_spec_has_its_scope(spec: Path, tokenize: Any) -> None:
    text = spec.read_text(encoding="utf-8")
    [lines] = tokenize([text])
    assert _mismatches(text, lines) == []


def test_every_keyword_and_block_of_the_lark_grammar_has_a_scope(tokenize: Any) -> None:
    """Each literal alone on a line (the grammar's keyword rules do not depend on context)."""
    names = sorted(LITERALS)
    results = tokenize([LITERALS[n] for n in names])
    unscoped = [
        f"{LITERALS[name]!r} ({name}): {[s[1:] for s in _scopes_over(lines[0], 0, len(LITERALS[name]))]}"
        for name, lines in zip(names, results, strict=True)
        if _mismatches(LITERALS[name], lines)
    ]
    assert unscoped == [], "add these to editors/vscode/syntaxes/arch.tmLanguage.json"


def test_declared_names_are_scoped(tokenize: Any) -> None:
    text = "arch tiny {\n    encoder enc1: naf x2\n}\nsearch over tiny {\n}\n"
    lines = tokenize([text])[0]
    assert "entity.name.type.arch" in _scopes_over(lines[0], 5, 9)[0]
    assert "entity.name.section.stage.arch" in _scopes_over(lines[1], 12, 16)[0]
    assert "entity.name.type.arch" in _scopes_over(lines[3], 12, 16)[0]


def test_a_block_name_inside_a_longer_name_is_not_a_block(tokenize: Any) -> None:
    lines = tokenize(["middle nafx: naf_bnx x1"])[0]
    assert all(BLOCK_SCOPE not in scopes for scopes in _scopes_over(lines[0], 7, 23))


def test_the_manifest_points_at_the_grammar_and_configuration() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    [language] = manifest["contributes"]["languages"]
    [grammar] = manifest["contributes"]["grammars"]
    assert language["extensions"] == [".arch"] and grammar["language"] == language["id"]
    tm = json.loads((EXTENSION / grammar["path"]).read_text(encoding="utf-8"))
    assert tm["scopeName"] == grammar["scopeName"]
    config = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    comment = next(t for t in GRAMMAR.parser.terminals if t.name == "COMMENT")
    assert re.match(comment.pattern.to_regexp(), config["comments"]["lineComment"] + " a comment")
    brackets = {tuple(pair) for pair in config["brackets"]}
    assert brackets == {pair for pair in (("{", "}"), ("(", ")"), ("[", "]")) if pair[0] in LITERALS.values()}
    assert {(p["open"], p["close"]) for p in config["autoClosingPairs"]} == brackets
