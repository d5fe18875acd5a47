"""Every command of the command line is thin: it parses its options into a stage's settings and
calls the stage. A command function's body (after its docstring) is at most 30 lines."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import textwrap
from pathlib import Path

import click
import pytest

from archc.cli.commands import COMMANDS

from cli_helpers import commands as _commands

MAX_LINES = 30


def _body_lines(fn: object) -> int:
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(fn)))  # type: ignore[arg-type]
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring is help text, not code
    return 0 if not body else (node.end_lineno or 0) - body[0].lineno + 1


def test_every_command_module_is_imported() -> None:
    modules = {name.split(".")[0] for name, _ in _commands()}
    assert modules == set(COMMANDS)


@pytest.mark.parametrize(("name", "command"), _commands(), ids=[n for n, _ in _commands()])
def test_a_command_function_is_at_most_30_lines(name: str, command: click.Command) -> None:
    assert _body_lines(command.callback) <= MAX_LINES, f"{name} has {_body_lines(command.callback)} lines"


def test_the_measure_counts_a_long_function(tmp_path: Path) -> None:
    """The count starts after the docstring and ends with the last line of the body."""
    lines = "\n".join(f"    x{i} = {i}" for i in range(31))
    (tmp_path / "long_module.py").write_text(f'def long():\n    """doc\n    more doc"""\n{lines}\n')
    spec = importlib.util.spec_from_file_location("long_module", tmp_path / "long_module.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert _body_lines(module.long) == 31
