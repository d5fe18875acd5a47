"""`archc report`: (re)write RUN/report.html and RUN/report.md from a run's JSON files."""

from __future__ import annotations

from pathlib import Path

import click

from .output import console


@click.command("report")
@click.argument("run", type=click.Path(file_okay=False, exists=True))
def report_cmd(run: str) -> None:
    """Write RUN/report.html (self-contained) and RUN/report.md."""
    from archc.runtime.pipeline import report

    report(Path(run))
    console.print(f"wrote {Path(run) / 'report.html'} and {Path(run) / 'report.md'}")
