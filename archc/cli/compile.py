"""`archc compile`: spec -> summary table, IR (JSON / DOT), counts and the network as simplified ONNX,
an ExecuTorch program (`.pte`) and / or a LiteRT flatbuffer (`.tflite`) (`--format`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import networkx as nx
from rich.table import Table

from archc.api import build, choice_of, parse
from archc.compiler.counts import Counts, count
from archc.compiler.files import write_text_atomic
from archc.compiler.ir import ir_to_dot, ir_to_json, to_ir
from archc.compiler.precision import NAMES as PRECISIONS
from archc.compiler.quantize import Calibration, check_method, is_quantized, missing_calibration
from archc.dsl.spec import Spec
from archc.errors import ExportError

from .output import console, human, print_json
from .params import WEIGHTS, format_option

EMITS = ("onnx", "ir", "dot", "counts")


def _blocks_text(d: dict[str, Any]) -> str:
    return " + ".join(f"{s['block']} x{s['stop'] - s['start']}" for s in d.get("segments") or [])


def summary_table(g: nx.DiGraph, counts: Counts) -> Table:
    h, w = counts.size
    table = Table(title=f"{g.graph['name']} at {h}x{w}", title_justify="left")
    for col, justify in (("stage", "left"), ("module", "left"), ("blocks", "left"), ("level", "right"),
                         ("channels", "right"), ("params", "right"), ("MACs", "right"), ("MACs %", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in counts.stages:
        d = g.nodes[row.name]
        blocks = _blocks_text(d) if d["kind"] == "stage" else d["op"]
        share = 100 * row.macs / counts.macs if counts.macs else 0.0
        table.add_row(row.name, row.module, blocks, str(d["level"]), str(row.channels), f"{row.params:,}",
                      human(row.macs), f"{share:.2f}")
    table.add_section()
    table.add_row("total", "", "", "", "", f"{counts.params:,}", human(counts.macs), "100.00")
    return table


def _search_line(spec: Spec) -> str | None:
    if spec.search is None:
        return None
    sizes = [len(s.candidates) for s in spec.search.slots]
    precisions = [len(s.precisions) for s in spec.search.slots] if spec.search.has_precision else []
    total = 1
    for n in (*sizes, *precisions):
        total *= n
    fixed = ", ".join(s.name for s in spec.search.fixed) or "none"
    per_slot = f" x {'/'.join(map(str, precisions))} precisions" if precisions else ""
    return (f"search space: {len(sizes)} slots x {'/'.join(map(str, sizes))} candidates{per_slot} = {total:,} networks"
            f" (excluded: {fixed})")


def _write_outputs(spec: Spec, g: nx.DiGraph, counts: Counts, out: Path, emits: Sequence[str],
                   choice: str | None, weights: str | None, surrogates: str | None = None,
                   passes: Sequence[str] = (), precision: str = "fp32",
                   calibration: Calibration | None = None, formats: Sequence[str] = ("onnx",),
                   size: tuple[int, int] = (256, 256)) -> list[str]:
    written = []
    stem = spec.name
    if "ir" in emits:
        write_text_atomic(out / f"{stem}.ir.json", json.dumps(ir_to_json(g), indent=1) + "\n")
        written.append(f"{stem}.ir.json")
    if "dot" in emits:
        write_text_atomic(out / f"{stem}.dot", ir_to_dot(g))
        written.append(f"{stem}.dot")
    if "counts" in emits:
        write_text_atomic(out / f"{stem}.counts.json", json.dumps(counts.to_json(), indent=1) + "\n")
        written.append(f"{stem}.counts.json")
    if "onnx" in emits:
        model = build(spec, choice, weights, surrogates=surrogates)
        for fmt in formats:
            written.append(_write_network(fmt, model, spec, out, passes, precision, calibration, size))
    return written


def _write_network(fmt: str, model: Any, spec: Spec, out: Path, passes: Sequence[str], precision: str,
                   calibration: Calibration | None, size: tuple[int, int]) -> str:
    stem = spec.name
    calibrated = f", calibrated ({calibration.method}) on {calibration.source}" if calibration else ""
    if fmt == "onnx":
        from archc.compiler.onnx_export import export_onnx

        report = export_onnx(model, out / f"{stem}.onnx", spec.in_channels, passes=passes, precision=precision,
                             calibration=calibration)
        done = ", ".join(passes) or "none (-O0)"
        return f"{stem}.onnx ({report.nodes} nodes, {report.precision}{calibrated}; passes: {done})"
    from archc.compiler.mobile import write

    phone = write(fmt, model, out / f"{stem}.{fmt}", spec.in_channels, size, precision, calibration)
    return f"{stem}.{fmt} ({phone.line()})"


def check_formats(formats: Sequence[str], precision: str, method: str) -> None:
    """Before any work: every phone format's runtime is installed and takes the precision."""
    from archc.compiler.mobile import check_request

    for fmt in formats:
        if fmt != "onnx":
            check_request(fmt, precision, method)


def _check_export_fits(spec: Spec, g: nx.DiGraph, counts: Counts) -> None:
    """Refuse, before anything is allocated or written, a network whose export cannot fit in memory."""
    import torch

    from archc.compiler.memory import for_export
    from archc.runtime.memory import SHRINK_NETWORK, check_fits, spec_place

    span, sources = spec_place(spec)
    check_fits(for_export(counts.params, g), torch.device("cpu"), hint=SHRINK_NETWORK, span=span, sources=sources)


def passes_table(level: int) -> Table:
    """Every inference pass in pipeline order, and whether -O{level} (ONNX export) runs it."""
    from archc.compiler.passes import PASSES, passes_for

    on = set(passes_for(level, "onnx"))
    table = Table(title=f"inference passes (pipeline order; x = run at -O{level} for ONNX export)",
                  title_justify="left")
    for col in ("pass", "rewrites", "for", f"-O{level}", "what"):
        table.add_column(col)
    for p in PASSES:
        table.add_row(p.name, "ONNX graph" if p.stage == "onnx" else "torch module", ", ".join(p.targets),
                      "x" if p.name in on else "", p.summary)
    return table


def _chosen_passes(level: int, text: str | None) -> tuple[str, ...]:
    from archc.compiler.passes import passes_for, select

    if text is None:
        return passes_for(level, "onnx")
    return tuple(p.name for p in select(text.split(",")))


def _check_calibration_options(precision: str, calibration: str | None, method: str) -> None:
    """Before any work: a quantized precision has calibration data, and only it has."""
    check_method(method)
    if is_quantized(precision) and calibration is None:
        raise missing_calibration(precision)
    if not is_quantized(precision) and calibration is not None:
        raise ExportError(f"`--calibration` sets activation ranges, which `--precision {precision}` does not have",
                          code="E0617", help="use it with `--precision int8`, `w8a8` or `w8a16`, or drop it")


def _calibration(precision: str, data: str | None, method: str, images: int, split: str) -> Calibration | None:
    if data is None or not is_quantized(precision):
        return None
    from archc.runtime.data.calibration import calibration

    return calibration(data, method, images, split=split)


@click.command("compile")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--choice", "choices", multiple=True, help="SLOT=BLOCK (repeatable, or `a=x;b=y`).")
@click.option("--weights", type=WEIGHTS, help="Checkpoint to load (NAFNet .pth or .safetensors).")
@click.option("--surrogates", type=click.Path(file_okay=False),
              help="Surrogate bank from `archc distill` (RUN/surrogates); --weights is its teacher.")
@click.option("--out", "out", type=click.Path(file_okay=False), help="Folder to write ONNX, IR and counts into.")
@click.option("--emit", "emits", multiple=True, type=click.Choice(EMITS),
              help="What to write (default with --out: onnx, ir, counts). ir/dot without --out print to stdout.")
@click.option("--size", nargs=2, type=int, default=(256, 256), show_default=True, help="Input H W for MAC counts.")
@click.option("--json", "as_json", is_flag=True, help="Print counts as JSON instead of a table.")
@click.option("-O", "opt_level", type=click.IntRange(0, 2), default=2, show_default=True,
              help="Optimization level of the exported ONNX: 0 = the plain graph, 1 = exact folds, 2 = + layout.")
@click.option("--passes", "passes_text", metavar="A,B|list",
              help="Inference passes to apply instead of the -O level's (comma-separated); `list` shows them.")
@click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True,
              help="Precision of the exported ONNX; fp16 keeps LayerNorm and the residual stream in fp32; "
                   "int8 (= w8a8) and w8a16 are static QDQ graphs with per-channel int8 weights.")
@click.option("--calibration", type=click.Path(file_okay=False),
              help="Dataset whose blurred crops set the activation ranges of int8 / w8a8 / w8a16.")
@format_option
@click.option("--calibration-method", default="minmax", show_default=True,
              help="Activation ranges: minmax, percentile or entropy.")
@click.option("--calibration-images", type=click.IntRange(1), default=16, show_default=True,
              help="Centre crops (128 px) of the calibration set to run.")
@click.option("--calibration-split", default="train", show_default=True, help="Split of the calibration set.")
def compile_cmd(spec: str, choices: Sequence[str], weights: str | None, surrogates: str | None, out: str | None,
                emits: Sequence[str], size: tuple[int, int], as_json: bool, opt_level: int,
                passes_text: str | None, precision: str, calibration: str | None = None,
                calibration_method: str = "minmax", calibration_images: int = 16,
                calibration_split: str = "train", formats: tuple[str, ...] = ("onnx",)) -> None:
    """Check SPEC, print its stages with parameters and MACs, and write IR / ONNX / .pte / .tflite."""
    if passes_text == "list":
        console.print(passes_table(opt_level))
        return
    _check_calibration_options(precision, calibration, calibration_method)
    if out is not None:
        check_formats(formats, precision, calibration_method)
    calib = None if out is None else _calibration(precision, calibration, calibration_method, calibration_images,
                                                  calibration_split)
    passes = _chosen_passes(opt_level, passes_text)
    checked = parse(spec)
    choice = ";".join(choices) or None
    g = to_ir(checked, choice_of(checked, choice))
    counts = count(g, tuple(size))  # type: ignore[arg-type]
    if out is None and emits:
        for e in emits:
            if e not in ("ir", "dot"):
                raise click.UsageError(f"--emit {e} needs --out DIR")
            click.echo(json.dumps(ir_to_json(g), indent=1) if e == "ir" else ir_to_dot(g))
        return
    if as_json:
        print_json({"spec": checked.path, "choice": g.graph["choice"], **counts.to_json()})
    else:
        console.print(summary_table(g, counts))
        line = _search_line(checked)
        if line:
            console.print(line)
    if out is not None:
        if "onnx" in (emits or ("onnx",)):
            _check_export_fits(checked, g, counts)
        written = _write_outputs(checked, g, counts, Path(out), emits or ("onnx", "ir", "counts"), choice, weights,
                                 surrogates, passes, precision, calib, formats, tuple(size))  # type: ignore[arg-type]
        if not as_json:
            for w in written:
                console.print(f"wrote {Path(out) / w}")
