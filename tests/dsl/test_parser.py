"""Reading and parsing: text vs path, and that no input ever escapes as anything but an ArchError."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archc
from archc import ArchError
from archc.dsl.parser import read_spec_text
from archc.errors import SpecSyntaxError

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "specs").glob("*.arch"))] + [
    p.read_text(encoding="utf-8", errors="replace") for p in sorted((ROOT / "tests/golden/errors").glob("*.arch"))
]
PIECES = ["{", "}", "(", ")", ";", ":", ",", "|", "*", "[", "]", "=", "x3", "x0", "naf", "top", "by", "exclude"]
PIECES += ["search", "arch", "in", "0", "99999999999999999999", "2.5", "@", "é", "\t", "\n", "#", "enc1", "enc4[0:14]"]
PIECES += ["\x00", "\x01", "\x7f"]
LARK_INTERNALS = re.compile(
    r"__ANON|\b(?:[LR](?:BRACE|PAR|SQB)|SEMICOLON|COLON|COMMA|VBAR|EQUAL|NAME|INT|REPEAT)\b|\$END"
)


@pytest.mark.parametrize("text", ["", "   ", "\n", "# only a comment", "arch a {\n}"])
def test_strings_that_cannot_be_paths_are_spec_text(text: str) -> None:
    assert read_spec_text(text) == ("<spec>", text)


def test_a_path_is_read(tmp_path: Path) -> None:
    spec = tmp_path / "a.arch"
    spec.write_text("arch a {}\n", encoding="utf-8")
    assert read_spec_text(str(spec)) == (str(spec), "arch a {}\n")
    assert read_spec_text(spec) == (str(spec), "arch a {}\n")


def test_a_folder_is_not_a_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecSyntaxError, match="is a folder"):
        read_spec_text(tmp_path)


def test_empty_text_is_the_empty_spec_error() -> None:
    with pytest.raises(SpecSyntaxError, match="the spec is empty"):
        archc.parse("")
    with pytest.raises(SpecSyntaxError, match="the block is empty"):
        archc.parse_block(" ")


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A spec (valid or one of the golden bad ones) with a few characters cut, pasted or a line doubled."""
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["cut", "paste", "line"]))
        if op == "cut":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        elif op == "paste":
            text = text[:pos] + draw(st.sampled_from(PIECES)) + text[pos:]
        elif lines := text.splitlines(keepends=True):
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(lines)))
            text = "".join(lines)
    return text + "\n"  # a one-line string without `{` would be taken for a path


@settings(max_examples=150, deadline=None)
@given(mutated())
def test_any_input_gives_a_spec_or_a_rendered_diagnostic(text: str) -> None:
    try:
        archc.parse(text)
    except ArchError as exc:
        rendered = exc.render()
        assert not LARK_INTERNALS.search(rendered), rendered
        for diag in exc.diagnostics:
            assert diag.span is not None and diag.help, rendered


def test_a_nul_character_in_spec_text_is_a_diagnostic_at_its_place() -> None:
    text = (ROOT / "specs" / "nafnet_tiny.arch").read_text(encoding="utf-8")
    mutated = re.sub(r"(encoder enc2: )\w+", "\\g<1>\x00", text, count=1)
    with pytest.raises(SpecSyntaxError) as err:
        archc.parse(mutated)
    diag = err.value.diagnostics[0]
    line = 1 + text[: text.index("encoder enc2:")].count("\n")
    assert diag.span is not None and (diag.span.line, diag.span.column) == (line, 19)
    assert "NUL" in diag.message
    with pytest.raises(SpecSyntaxError, match="NUL"):
        archc.parse_block("na\x00f")
