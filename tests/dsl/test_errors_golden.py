"""Every rendered error, frozen: `tests/golden/errors/<case>.arch` must fail with `<case>.err`.

Regenerate after a deliberate change of wording with `ARCHC_UPDATE_GOLDEN=1 pytest tests/dsl`,
then read every changed `.err` as a user would before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import archc
from archc import ArchError

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "golden" / "errors"
UPDATE = os.environ.get("ARCHC_UPDATE_GOLDEN") == "1"
LARK_INTERNALS = re.compile(r"__ANON|\b(?:RBRACE|LBRACE|LPAR|RPAR|SEMICOLON|COLON|NAME|INT|REPEAT|_NO_BLOCK)\b|\$END")


def _cases() -> list[str]:
    return sorted(p.stem for p in CASES.glob("*.arch"))


def render(case: str) -> str:
    """The rendered error of one case, its path shown relative to the repository root."""
    try:
        archc.parse(Path("tests/golden/errors") / f"{case}.arch")
    except ArchError as exc:
        return exc.render() + "\n"
    raise AssertionError(f"{case}.arch parsed without an error")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", _cases())
def test_error_matches_golden(case: str) -> None:
    got = render(case)
    golden = CASES / f"{case}.err"
    if UPDATE:
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no {golden.name}; run with ARCHC_UPDATE_GOLDEN=1 to create it"
    assert got == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", _cases())
def test_error_reads_like_a_compiler(case: str) -> None:
    """path:line:col, the source line, a caret, a help line; none of Lark's internal names."""
    got = render(case)
    path = f"tests/golden/errors/{case}.arch"
    for block in got.split("\n\nerror")[:]:
        assert re.search(rf"--> {re.escape(path)}:\d+:\d+\n", block), block
        assert re.search(r"\n\s*\d+ \| .*\n\s+\| *\^+", block), block
        assert "\nhelp: " in block, block
    assert not LARK_INTERNALS.search(got), got
    assert "Traceback" not in got


def test_every_golden_file_has_a_case() -> None:
    stale = sorted(p.name for p in CASES.glob("*.err") if not p.with_suffix(".arch").exists())
    assert not stale, f"golden files without a case: {stale}"


def _carets(rendered: str) -> list[tuple[str, str]]:
    """(source line, caret line) for the primary span of every diagnostic."""
    lines = rendered.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith("-->"):
            out.append((lines[i + 2].split(" | ", 1)[1], lines[i + 3].split(" | ", 1)[1]))
    return out


def _underlined(source: str, caret: str) -> str:
    start = caret.index("^")
    return source[start : start + caret.count("^")]


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("unknown_block", "mbcnov"),
        ("unknown_param", "dw_expnd"),
        ("bad_value_type", "maybe"),
        ("bad_value_range_kernel", "4"),
        ("huge_repeat", "x10000000"),
        ("unknown_slot_candidates", "ecn2"),
        ("overlapping_slices", "enc2[1:4]"),
        ("search_over_wrong_name", "small"),
        ("exclude_top_unknown_metric", "gradnorm"),
        ("syntax_keyword_as_name", "in"),
    ],
)
def test_caret_covers_the_offending_token(case: str, token: str) -> None:
    [(source, caret)] = _carets(render(case))
    assert _underlined(source, caret) == token


def test_several_errors_are_reported_at_once_in_order() -> None:
    got = render("several_errors")
    positions = [tuple(map(int, m)) for m in re.findall(r"--> [^:]+:(\d+):(\d+)", got)]
    assert len(positions) >= 8
    assert positions == sorted(positions)
    assert got.rstrip().endswith(f"{len(positions)} errors")
