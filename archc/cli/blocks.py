"""`archc blocks`: the loaded block kinds and their parameters."""

from __future__ import annotations

import attrs
import click
from rich.table import Table
from rich.text import Text

from archc.compiler.blocks import all_blocks
from archc.dsl.params import format_value

from .output import console, print_json


def _param_rows(params_cls: type) -> list[dict[str, str]]:
    rows = []
    for f in attrs.fields(params_cls):
        kind = type(f.default).__name__ if f.default is not attrs.NOTHING else "?"
        kind = {"bool": "on|off"}.get(kind, kind)
        rows.append({"name": f.name, "type": kind, "default": format_value(f.default)})
    return rows


@click.command("blocks")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def blocks_cmd(as_json: bool) -> None:
    """List the loaded block kinds, their parameters and where they come from."""
    blocks = all_blocks()
    if as_json:
        print_json([{"name": b.name, "summary": b.summary, "params": _param_rows(b.params),
                     "fragment": str(b.fragment), "origin": b.origin} for b in blocks.values()])
        return
    table = Table(title=f"{len(blocks)} block kinds", title_justify="left")
    for col in ("block", "parameters", "from", "what it is"):
        table.add_column(col)
    for b in blocks.values():
        params = ", ".join(f"{r['name']}={r['default']} ({r['type']})" for r in _param_rows(b.params)) or "-"
        table.add_row(*(Text(cell) for cell in (b.name, params, b.origin, b.summary)))  # not markup
    console.print(table)
