"""`archc report`: (re)write RUN/report.html and RUN/report.md from a run's JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .output import console


def _crops(run: Path) -> None:
    """The before/after figure (blurred | teacher | found network | sharp, each labelled with its
    PSNR) for a few validation crops: RUN/export/crops.png and crops.json."""
    import json

    from archc.api import build, parse
    from archc.compiler.files import write_text_atomic
    from archc.runtime.data.crops import ValCrops
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.report.before_after import plot, restore_crops, summary

    search = json.loads((run / "search" / "search.json").read_text())
    exp = json.loads((run / "export" / "export.json").read_text())
    teacher = build(parse(search["spec_text"]), None, search["teacher"])
    exported = build(parse(Path(exp["spec"])), None, exp["weights"])
    view = ValCrops(open_dataset(search["data"], split="test"), search["validation"]["crop"])
    rows = restore_crops(view, teacher, exported)
    plot(rows, run / "export" / "crops.png")
    write_text_atomic(run / "export" / "crops.json", json.dumps(summary(rows), indent=1) + "\n")


def write_report(run: Path, spec: Any = None) -> None:
    from archc.runtime.report.run_report import write

    if (run / "export" / "export.json").is_file():
        _crops(run)
    write(run, f"archc run: {spec.name if spec is not None else run.name}")


@click.command("report")
@click.argument("run", type=click.Path(file_okay=False, exists=True))
def report_cmd(run: str) -> None:
    """Write RUN/report.html (self-contained) and RUN/report.md."""
    write_report(Path(run))
    console.print(f"wrote {Path(run) / 'report.html'} and {Path(run) / 'report.md'}")
