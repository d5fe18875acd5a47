"""`archc pretrained`: the teachers that ship with archc, usable as `--weights pretrained:NAME`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from archc.compiler.files import write_text_atomic
from archc.compiler.pretrained import PREFIX, Pretrained, available, get

from .output import console, print_json


def _row(p: Pretrained) -> dict[str, object]:
    test = p.test
    return {"name": p.name, "weights": f"{PREFIX}{p.name}", "parameters": p.card["parameters"],
            "psnr": test["psnr"], "input_psnr": test["input_psnr"], "gain_db": test["gain_db"], "ssim": test["ssim"],
            "steps": p.card["steps"], "spec": str(p.spec), "file": str(p.weights)}


def _table(rows: list[Pretrained]) -> None:
    table = Table(title=f"{len(rows)} pretrained teacher(s)", title_justify="left")
    for col in ("--weights", "parameters", "test PSNR", "blurred", "gain", "steps", "trained on"):
        table.add_column(col, justify="left" if col in ("--weights", "trained on") else "right")
    for p in rows:
        t = p.test
        table.add_row(f"{PREFIX}{p.name}", f"{p.card['parameters']:,}", f"{t['psnr']:.2f} dB",
                      f"{t['input_psnr']:.2f} dB", f"{t['gain_db']:+.2f} dB", f"{p.card['steps']:,}",
                      p.card["data"]["command"])
    console.print(table)
    console.print("`archc pretrained NAME` shows a model card; `--write-spec FILE` writes the spec its weights fit")


@click.command("pretrained")
@click.argument("name", required=False)
@click.option("--write-spec", type=click.Path(dir_okay=False), help="Write NAME's spec (.arch) to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def pretrained_cmd(name: str | None, write_spec: str | None, as_json: bool) -> None:
    """List the teachers that ship with archc, or show NAME's model card."""
    if name is None:
        if write_spec:
            raise click.UsageError("--write-spec needs a NAME")
        if as_json:
            print_json([_row(p) for p in available()])
        else:
            _table(available())
        return
    p = get(name.removeprefix(PREFIX))
    if write_spec:
        write_text_atomic(Path(write_spec), p.spec.read_text(encoding="utf-8"))
        console.print(f"wrote {write_spec}")
    elif as_json:
        print_json({**_row(p), "card": p.card})
    else:
        console.print((p.folder / "MODEL_CARD.md").read_text(encoding="utf-8"), markup=False, highlight=False)
