"""`archc devices`: the devices `archc profile --device` accepts, and what each one is."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from archc.runtime.profile.devices import DeviceInfo, listing

from .output import console, print_json


def _attached() -> list[DeviceInfo]:
    """Phones adb can see now (none when adb is absent or slow)."""
    from archc.errors import ProfileError
    from archc.runtime.profile.adb import adb_path, attached

    try:
        serials = attached(adb_path({}), timeout=5.0)
    except ProfileError:
        return []
    return [DeviceInfo(f"adb:{s}", "remote", "attached Android device (adb devices)", "adb") for s in serials]


@click.command("devices")
@click.option("--devices-dir", type=click.Path(file_okay=False), help="Extra folder of device files.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def devices_cmd(devices_dir: str | None, as_json: bool) -> None:
    """List devices: measured here, remote (adb, AI Hub) and modelled (device files)."""
    rows = [*listing(devices_dir), *_attached()]
    if as_json:
        print_json([{"name": d.name, "kind": d.kind, "description": d.description, "source": d.source} for d in rows])
        return
    table = Table(title=f"{len(rows)} devices", title_justify="left")
    for col in ("device", "kind", "what it is", "from"):
        table.add_column(col)
    for d in rows:
        table.add_row(*(Text(cell) for cell in (d.name, d.kind, d.description, d.source)))  # not markup
    console.print(table)
    console.print("modelled figures are estimates of a cost model, never measurements")
