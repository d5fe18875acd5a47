"""`archc compile`: spec -> summary table, IR (JSON / DOT), counts and simplified ONNX (and the
phone formats `--format` asks for: ExecuTorch `.pte`, LiteRT `.tflite`)."""

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
from archc.compiler.quantize import Calibration, check_method, missing_calibration
from archc.dsl.precision import NAMES as PRECISIONS
from archc.dsl.precision import is_quantized
from archc.dsl.spec import Spec
from archc.errors import DataError, ExportError, WeightsError

from .options import format_option
from .output import console, human, print_json
from .params import WEIGHTS

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


def _write_outputs(spec: Spec, g: nx.DiGraph, counts: Counts, out: Path, emits: Sequence[str], model: Any,
                   passes: Sequence[str] = (), precision: str = "fp32",
                   calibration: Calibration | None = None, formats: Sequence[str] = ("onnx",),
                   size: tuple[int, int] = (256, 256)) -> list[str]:
    """Write what `emits` names; the network files (`formats`) first, because they are the ones that
    can still fail (every file is written atomically, so a failed export leaves nothing behind)."""
    written = []
    stem = spec.name
    if "onnx" in emits:
        for fmt in formats:
            written.append(_write_network(fmt, model, spec, out, passes, precision, calibration, size))
    if "ir" in emits:
        write_text_atomic(out / f"{stem}.ir.json", json.dumps(ir_to_json(g), indent=1) + "\n")
        written.append(f"{stem}.ir.json")
    if "dot" in emits:
        write_text_atomic(out / f"{stem}.dot", ir_to_dot(g))
        written.append(f"{stem}.dot")
    if "counts" in emits:
        write_text_atomic(out / f"{stem}.counts.json", json.dumps(counts.to_json(), indent=1) + "\n")
        written.append(f"{stem}.counts.json")
    return written


def _write_network(fmt: str, model: Any, spec: Spec, out: Path, passes: Sequence[str], precision: str,
                   calibration: Calibration | None, size: tuple[int, int]) -> str:
    """Write `model` in one format (onnx, pte, tflite); returns the line that says what was written."""
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


def _check_formats(formats: Sequence[str], precision: str, method: str) -> None:
    """Before any work: each phone format's runtime is installed and takes the precision."""
    from archc.compiler.mobile import check_formats  # loads torch, which the language tools never need

    check_formats(formats, precision, method)


def _check_given_paths(weights: str | None, surrogates: str | None, calibration: str | None) -> None:
    """Every path given on the command line exists and is of the right kind, before any work."""
    if weights is not None and not Path(weights).is_file():
        state = "is a folder" if Path(weights).is_dir() else "does not exist"
        raise WeightsError(f"--weights {weights} {state}", code="E0402",
                           help="pass a NAFNet .pth checkpoint, an archc .safetensors file or `pretrained:NAME`")
    if surrogates is not None:
        from archc.runtime.distill.bank import load_bank

        load_bank(surrogates)  # a missing folder or manifest is DistillError E1104
    if calibration is not None and not Path(calibration).is_dir():
        state = "is a file, not a folder" if Path(calibration).exists() else "does not exist"
        raise DataError(f"dataset folder {calibration} {state}", code="E0501",
                        help="pass a dataset folder (see `archc data --help` for the layouts)")


def _check_export_fits(spec: Spec, g: nx.DiGraph, counts: Counts) -> None:
    """Refuse, before anything is allocated or written, a network whose export cannot fit in memory."""
    import torch

    from archc.compiler.memory import for_export
    from archc.runtime.accel.memory import SHRINK_NETWORK, check_fits, spec_place

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


def _check_calibration_options(precision: str, calibration: str | None, method: str, weights: str | None,
                               surrogates: str | None) -> None:
    """Before any work: a quantized precision has calibration data, and only it has; every path
    given exists and is of the right kind."""
    check_method(method)
    if is_quantized(precision) and calibration is None:
        raise missing_calibration(precision)
    if not is_quantized(precision) and calibration is not None:
        raise ExportError(f"`--calibration` sets activation ranges, which `--precision {precision}` does not have",
                          code="E0617", help="use it with `--precision int8`, `w8a8` or `w8a16`, or drop it")
    _check_given_paths(weights, surrogates, calibration)


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
@click.option("--calibration-method", default="minmax", show_default=True,
              help="Activation ranges: minmax, percentile or entropy.")
@click.option("--calibration-images", type=click.IntRange(1), default=16, show_default=True,
              help="Centre crops (128 px) of the calibration set to run.")
@click.option("--calibration-split", default="train", show_default=True, help="Split of the calibration set.")
@format_option
def compile_cmd(spec: str, choices: Sequence[str], weights: str | None, surrogates: str | None, out: str | None,
                emits: Sequence[str], size: tuple[int, int], as_json: bool, opt_level: int,
                passes_text: str | None, precision: str, calibration: str | None = None,
                calibration_method: str = "minmax", calibration_images: int = 16,
                calibration_split: str = "train", formats: Sequence[str] = ("onnx",)) -> None:
    """Check SPEC, print its stages with parameters and MACs, and write IR / ONNX."""
    if passes_text == "list":
        console.print(passes_table(opt_level))
        return
    _check_calibration_options(precision, calibration, calibration_method, weights, surrogates)
    _check_formats(formats if out is not None else (), precision, calibration_method)
    emits_out = tuple(emits) or ("onnx", "ir", "counts")
    calib = None if out is None else _calibration(precision, calibration, calibration_method, calibration_images,
                                                  calibration_split)
    passes = _chosen_passes(opt_level, passes_text)
    checked = parse(spec)
    choice = ";".join(choices) or None
    g = to_ir(checked, choice_of(checked, choice))
    counts = count(g, tuple(size))  # type: ignore[arg-type]
    onnx = out is not None and "onnx" in emits_out
    to_stdout = out is None and bool(emits)
    _show(checked, g, counts, as_json, to_stdout, emits)
    if onnx:
        _check_export_fits(checked, g, counts)
    # the checkpoint (and bank) is loaded into the network before anything is written: one that
    # does not fit fails here, whatever the command was asked to write
    model = build(checked, choice, weights, surrogates=surrogates) if onnx or weights or surrogates else None
    if to_stdout:
        for e in emits:
            click.echo(json.dumps(ir_to_json(g), indent=1) if e == "ir" else ir_to_dot(g))
        return
    if weights is not None and not as_json:
        console.print(f"weights: {weights} fit the network")
    if out is not None:
        _say_written(out, _write_outputs(checked, g, counts, Path(out), emits_out, model, passes, precision, calib,
                                         formats, tuple(size)), as_json)  # type: ignore[arg-type]


def _say_written(out: str, written: Sequence[str], as_json: bool) -> None:
    if not as_json:
        for w in written:
            console.print(f"wrote {Path(out) / w}")


def _show(spec: Spec, g: nx.DiGraph, counts: Counts, as_json: bool, to_stdout: bool, emits: Sequence[str]) -> None:
    """The counts (as JSON or a table with the search line), unless IR / DOT go to stdout."""
    if to_stdout:
        for e in emits:
            if e not in ("ir", "dot"):
                raise click.UsageError(f"--emit {e} needs --out DIR")
    if as_json:
        print_json({"spec": spec.path, "choice": g.graph["choice"], **counts.to_json()})
    elif not to_stdout:
        console.print(summary_table(g, counts))  # the counts are shown even when the export is refused
        line = _search_line(spec)
        if line:
            console.print(line)
