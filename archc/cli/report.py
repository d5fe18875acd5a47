"""`archc report`: (re)write RUN/report.html and RUN/report.md from a run's JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .output import console


def _crops(run: Path) -> None:
    """The before/after strip: blurred, teacher, exported network, sharp for a few validation crops."""
    import json

    import numpy as np
    import torch

    from archc.api import build, parse
    from archc.compiler.files import atomic_path
    from archc.runtime.data.crops import ValCrops
    from archc.runtime.data.datasets import open_dataset

    search = json.loads((run / "search" / "search.json").read_text())
    exp = json.loads((run / "export" / "export.json").read_text())
    teacher = build(parse(search["spec_text"]), None, search["teacher"]).eval()
    exported = build(parse(Path(exp["spec"])), None, exp["weights"]).eval()
    view = ValCrops(open_dataset(search["data"], split="test"), search["validation"]["crop"])
    rows = []
    for i in range(min(3, len(view))):
        _, blur, sharp = view[i]
        with torch.inference_mode():
            t, e = (m(blur[None])[0].clamp(0, 1) for m in (teacher, exported))
        rows.append(torch.cat([blur, t, e, sharp], dim=2))
    strip = (torch.cat(rows, dim=1).numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
    from PIL import Image

    with atomic_path(run / "export" / "crops.png") as tmp:
        Image.fromarray(strip).save(tmp, format="PNG")


def write_report(run: Path, spec: Any = None) -> None:
    from archc.runtime.report import write

    if (run / "export" / "export.json").is_file():
        _crops(run)
    write(run, f"archc run: {spec.name if spec is not None else run.name}")


@click.command("report")
@click.argument("run", type=click.Path(file_okay=False, exists=True))
def report_cmd(run: str) -> None:
    """Write RUN/report.html (self-contained) and RUN/report.md."""
    write_report(Path(run))
    console.print(f"wrote {Path(run) / 'report.html'} and {Path(run) / 'report.md'}")
