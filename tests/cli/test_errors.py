"""User errors on the command line: exit code 1, the rendered diagnostic on stderr, no traceback
(unless `--debug` asks for one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli
from archc.errors import ArchError, SpecSyntaxError

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path("tests/golden/errors")
# What the `archc` console script runs (`archc.cli:main`), under this interpreter.
ARCHC = [sys.executable, "-c", "import sys; from archc.cli import main; main(sys.argv[1:])"]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("case", ["unknown_block", "several_errors", "binary_garbage", "empty_file"])
def test_compile_bad_spec_exits_1_with_the_rendered_diagnostic(case: str) -> None:
    result = invoke("compile", str(GOLDEN / f"{case}.arch"))
    assert result.exit_code == 1
    assert result.stderr == (GOLDEN / f"{case}.err").read_text(encoding="utf-8")
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, ArchError)  # handled, not escaped


def test_fmt_bad_spec_exits_1() -> None:
    result = invoke("fmt", str(GOLDEN / "syntax_missing_brace.arch"))
    assert result.exit_code == 1
    assert result.stderr == (GOLDEN / "syntax_missing_brace.err").read_text(encoding="utf-8")


def test_debug_lets_the_exception_through() -> None:
    result = invoke("--debug", "compile", str(GOLDEN / "unknown_block.arch"))
    assert result.exit_code == 1
    assert isinstance(result.exception, SpecSyntaxError)
    assert result.exc_info is not None and result.exc_info[2] is not None


def test_missing_spec_file_is_a_clear_error() -> None:
    result = invoke("compile", "specs/no_such_spec.arch")
    assert result.exit_code == 1
    assert "no such spec file: specs/no_such_spec.arch" in result.stderr
    assert "help: check the path" in result.stderr
    assert "Traceback" not in result.output


def test_folder_given_as_spec_is_a_usage_error() -> None:
    result = invoke("compile", "specs")
    assert result.exit_code == 2
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.output


def test_missing_plugin_file_is_a_clear_error() -> None:
    result = invoke("--plugin", "no_such_plugin.py", "blocks")
    assert result.exit_code == 1
    assert "no such plugin file: no_such_plugin.py" in result.stderr
    assert "Traceback" not in result.output


def test_good_spec_still_exits_0() -> None:
    result = invoke("compile", "specs/nafnet_tiny.arch", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_real_process_prints_the_diagnostic_and_no_traceback() -> None:
    case = GOLDEN / "unknown_block.arch"
    proc = subprocess.run([*ARCHC, "compile", str(case)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == case.with_suffix(".err").read_text(encoding="utf-8")
    assert proc.stdout == ""


def test_real_process_with_debug_shows_the_traceback() -> None:
    case = GOLDEN / "unknown_block.arch"
    proc = subprocess.run(
        [*ARCHC, "--debug", "compile", str(case)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "SpecSyntaxError: unknown block `mbcnov`" in proc.stderr
