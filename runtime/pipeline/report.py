"""The report stage: RUN/report.html (self-contained) and RUN/report.md from a run's JSON files,
with the before/after figure of the exported network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .context import Context


def report(run_dir: Path, spec: Any = None, ctx: Context | None = None) -> None:
    """(Re)write the run's report; `spec` names it (default: the run folder's name)."""
    from archc.runtime.report.run_report import write

    run = Path(run_dir)
    if (run / "export" / "export.json").is_file():
        _crops(run)
    write(run, f"archc run: {spec.name if spec is not None else run.name}")


def _crops(run: Path) -> None:
    """The before/after figure (blurred | teacher | found network | sharp, each labelled with its
    PSNR) for a few validation crops: RUN/export/crops.png and crops.json."""
    from archc.compiler.files import write_text_atomic
    from archc.compiler.frontend import parse
    from archc.runtime.data.crops import ValCrops
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.network.build import build
    from archc.runtime.report.before_after import plot, restore_crops, summary

    search = json.loads((run / "search" / "search.json").read_text())
    exp = json.loads((run / "export" / "export.json").read_text())
    teacher = build(parse(search["spec_text"]), None, search["teacher"])
    exported = build(parse(Path(exp["spec"])), None, exp["weights"])
    view = ValCrops(open_dataset(search["data"], split="test"), search["validation"]["crop"])
    rows = restore_crops(view, teacher, exported)
    plot(rows, run / "export" / "crops.png")
    write_text_atomic(run / "export" / "crops.json", json.dumps(summary(rows), indent=1) + "\n")
