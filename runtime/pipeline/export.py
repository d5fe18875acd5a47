"""The export stage: one network of a search as a fixed .arch spec, safetensors weights and the
network files of `formats` (ONNX, ExecuTorch `.pte`, LiteRT `.tflite`; and, when the search chose
quantized precisions, a mixed-precision QDQ ONNX)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrs import frozen

from .context import Context
from .layout import folder


@frozen
class ExportSettings:
    """Export the `pick` (knee, fastest, drop<=DB, speedup>=X, best-under=MS or an index) of the
    search in `search` (default RUN/search) into `out` (default RUN/export); `choice` (SLOT=BLOCK;...)
    is a hand pick instead, `precisions` its slots' precisions in a precision search; `formats` the
    network files written (onnx, pte, tflite)."""

    pick: str = "knee"
    search: str | None = None
    out: str | None = None
    choice: str | None = None
    precisions: str | None = None
    formats: tuple[str, ...] = ("onnx",)


def export(run_dir: Path, settings: ExportSettings, ctx: Context) -> dict[str, Any]:
    """Export into RUN/export (or `settings.out`); returns export.json's content."""
    from archc.compiler.mobile import check_formats
    from archc.runtime.search.export import export as write_pick
    from archc.runtime.search.pick import check_pick

    s = settings
    check_formats(s.formats, "fp32")  # a phone runtime that is not installed fails before any work
    return write_pick(
        folder(run_dir, s.search, "search"),
        check_pick(s.pick),
        folder(run_dir, s.out, "export"),
        ctx.accelerator,
        s.choice,
        s.precisions,
        s.formats,
    )
