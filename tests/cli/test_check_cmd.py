"""`archc check`: every diagnostic of every spec, exit 0 or 1, text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/golden/errors"
SPECS = sorted((ROOT / "specs").glob("*.arch"))


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def test_every_shipped_spec_checks_clean() -> None:
    result = invoke("check", *map(str, SPECS))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{spec}: ok" for spec in SPECS]


@pytest.mark.parametrize("case", ["several_errors", "unknown_block", "syntax_missing_brace"])
def test_a_bad_spec_exits_1_with_the_same_diagnostics_as_compile(case: str) -> None:
    spec = str(GOLDEN / f"{case}.arch")
    checked, compiled = invoke("check", spec), invoke("compile", spec)
    assert checked.exit_code == 1
    assert checked.stderr == compiled.stderr


def test_json_lists_every_diagnostic_per_spec() -> None:
    bad, good = str(GOLDEN / "several_errors.arch"), str(SPECS[0])
    result = invoke("check", "--format", "json", bad, good)
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["spec"] for r in rows] == [bad, good]
    assert rows[1]["diagnostics"] == []
    diags = rows[0]["diagnostics"]
    assert len(diags) > 3  # a semantic check reports every error, not the first
    assert all(d["span"]["file"] == bad and d["code"].startswith("E") for d in diags)


def test_json_on_clean_specs_exits_0() -> None:
    result = invoke("check", "--format", "json", str(SPECS[0]))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [{"spec": str(SPECS[0]), "diagnostics": []}]


def test_a_missing_file_is_a_diagnostic_not_a_traceback() -> None:
    result = invoke("check", "--format", "json", "no/such.arch")
    assert result.exit_code == 1
    [row] = json.loads(result.stdout)
    assert "no such spec file" in row["diagnostics"][0]["message"]
