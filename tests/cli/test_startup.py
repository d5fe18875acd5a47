"""The language tools start without the back end: `archc --help`, `archc fmt`, `archc check` and
`archc blocks` never import torch, scipy, ONNX or BoTorch (each costs seconds and hundreds of MB),
and every command of the table still loads and shows its own help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from archc.cli import cli
from archc.cli.commands import entries

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "scipy", "onnx", "onnxruntime", "onnxscript", "botorch")
# Runs the console script's entry point, then reports which heavy top-level packages got loaded.
PROBE = """
import json, sys
from archc.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = set(json.loads(sys.stdin.read()))
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & heavy)), file=sys.stderr)
"""


def _loaded(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    return json.loads(out.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("fmt", "specs/nafnet_gopro.arch"),
        ("check", "specs/nafnet_gopro.arch"),
        ("check", "--format", "json", "tests/golden/errors/several_errors.arch"),
        ("blocks",),
        ("pretrained",),
    ],
    ids=" ".join,
)
def test_language_tools_do_not_load_the_back_end(args: tuple[str, ...]) -> None:
    assert _loaded(*args) == []


def test_parsing_from_python_does_not_load_the_back_end() -> None:
    """`archc.parse` and `archc.compile_ir` from Python are as light as the language tools; `build` is
    the first name that loads torch."""
    code = (
        "import json, sys, archc\n"
        "archc.parse('specs/nafnet_gopro.arch')\n"
        "archc.compile_ir('specs/nafnet_tiny.arch')\n"
        "before = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(sys.argv[1])))\n"
        "archc.build\n"
        "print(json.dumps([before, 'torch' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(HEAVY)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [[], True]


def test_building_still_loads_torch() -> None:
    """The probe sees imports at all: a command that builds a network does load torch."""
    assert "torch" in _loaded("compile", "specs/nafnet_tiny.arch", "--size", "32", "32")


@pytest.mark.parametrize("name", sorted(entries()))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    """`archc --help` reads each line from the module's source; it must be what the command says."""
    entry = entries()[name]
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    listed = click.Command(name, help=entry.help, short_help=entry.short_help)
    assert listed.get_short_help_str(10_000) == command.get_short_help_str(10_000)


def test_help_lists_every_command_once() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "--help"], input="[]", capture_output=True, text=True, cwd=ROOT, timeout=120
    ).stdout
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == sorted(entries()) and "check" in listed
