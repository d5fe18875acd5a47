"""`archc fmt`: print a spec in canonical layout (comments kept)."""

from __future__ import annotations

import sys

import click

from archc.compiler.files import write_text_atomic
from archc.compiler.frontend import parse_file
from archc.dsl.fmt import format_file


@click.command("fmt")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--write", "-w", is_flag=True, help="Rewrite the file in place.")
@click.option("--check", is_flag=True, help="Exit 1 if the file is not in canonical layout.")
def fmt_cmd(spec: str, write: bool, check: bool) -> None:
    """Print SPEC in canonical layout."""
    file, text = parse_file(spec)
    out = format_file(file)
    if check:
        if out != text:
            click.echo(f"{spec} is not in canonical layout (run `archc fmt --write {spec}`)", err=True)
            sys.exit(1)
        return
    if write:
        if out != text:
            write_text_atomic(spec, out)
        return
    click.echo(out, nl=False)
