"""`archc check`: parse and check specs, and nothing else (what editors and pre-commit hooks call)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from archc.compiler.frontend import parse
from archc.errors import ArchError

from .options import json_option
from .output import print_json


def _errors(spec: str) -> ArchError | None:
    try:
        parse(spec)
    except ArchError as exc:
        return exc
    return None


def _report_text(results: dict[str, ArchError | None]) -> None:
    for spec, error in results.items():
        if error is None:
            click.echo(f"{spec}: ok")
        else:
            click.echo(error.render(), err=True)


def _report_json(results: dict[str, ArchError | None]) -> None:
    rows: list[dict[str, Any]] = [
        {"spec": spec, "diagnostics": error.to_json() if error is not None else []} for spec, error in results.items()
    ]
    print_json(rows)


@click.command("check")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@json_option("One object per spec, {spec, diagnostics} (the diagnostics' JSON form), on stdout.")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "json"]),
    default="text",
    hidden=True,
    help="Former spelling of --json (`--format json`).",
)
def check_cmd(specs: Sequence[str], as_json: bool, out_format: str) -> None:
    """Parse and check SPECS (syntax and meaning) without building anything; exit 1 if any has an error.

    Every diagnostic of every spec is reported. Neither torch nor ONNX is loaded, so this starts
    at once: editors and pre-commit hooks call it.
    """
    results = {spec: _errors(spec) for spec in specs}
    (_report_json if as_json or out_format == "json" else _report_text)(results)
    if any(error is not None for error in results.values()):
        sys.exit(1)
