"""Every shipped spec's float32 export in both phone runtimes: written, loaded and run.

For each `specs/*.arch` (the teacher architecture, every slot on its first block), the network is
built with weights moved off their initial values (fresh residual scales are 0, which would hide
every block from the comparison), then written as a `.pte` (ExecuTorch with XNNPACK, dynamic height
and width) and a `.tflite` (LiteRT, fixed size) exactly as `archc compile --format pte,tflite`
writes them. Each file is run once in its own runtime on the sample input and compared with the
torch module. A runtime that refuses the network is reported with the op it names.

Per spec and format it prints: conversion seconds (wall), file size, the input the file takes, the
max |difference| to torch, and `ok` (difference ≤ 1e-4) or the refusal. A row is printed as soon as
it is done; `--out FILE` also writes the rows as JSON.

    python benchmarks/phone_export_check.py [--specs nafnet_tiny,restormer_deblur] [--size 64] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from pte_lowering_bench import moved_off_init  # this folder is on sys.path when run as a script

import archc
from archc.compiler.files import write_text_atomic
from archc.compiler.mobile import write
from archc.errors import ArchError
from archc.runtime.accel.accelerator import cpu_flags, cpu_model

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4


def _network(spec: Path) -> tuple[torch.nn.Module, int]:
    return moved_off_init(archc.build(spec).eval(), 0.02), archc.parse(spec).in_channels


def _row(spec: Path, fmt: str, model: torch.nn.Module, channels: int, size: int, folder: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    row: dict[str, Any] = {"spec": spec.stem, "format": fmt}
    try:
        report = write(fmt, model, folder / f"{spec.stem}.{fmt}", channels, (size, size))
    except ArchError as exc:
        return {**row, "ok": False, "error": str(exc), "seconds": time.perf_counter() - t0}
    diff = report.max_abs_diff
    return {
        **row,
        "ok": diff is not None and diff <= TOLERANCE,
        "max_abs_diff": diff,
        "input": report.input,
        "megabytes": report.bytes / 1e6,
        "seconds": time.perf_counter() - t0,
        "outside_xnnpack": report.extra.get("outside_xnnpack", {}),
    }


def _print(row: dict[str, Any]) -> None:
    if "error" in row:
        print(f"{row['spec']:<22} {row['format']:<7} {row['seconds']:7.1f} s  REFUSED: {row['error']}", flush=True)
        return
    verdict = "ok" if row["ok"] else f"over {TOLERANCE:.0e}"
    outside = ", ".join(f"{k} x{v}" for k, v in sorted(row["outside_xnnpack"].items()))
    print(
        f"{row['spec']:<22} {row['format']:<7} {row['seconds']:7.1f} s  {row['megabytes']:7.2f} MB  "
        f"max |diff| {row['max_abs_diff']:.1e}  {verdict:<10} input {row['input']}"
        + (f"; outside XNNPACK: {outside}" if outside else ""),
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--specs", default="", help="comma-separated spec names (default: every specs/*.arch)")
    ap.add_argument("--formats", default="pte,tflite")
    ap.add_argument("--size", type=int, default=64, help="sample height and width (the .tflite's fixed size)")
    ap.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = ap.parse_args()
    names = [n for n in args.specs.split(",") if n]
    specs = [ROOT / "specs" / f"{n}.arch" for n in names] or sorted((ROOT / "specs").glob("*.arch"))
    torch.set_num_threads(1)
    print(f"measured on {cpu_model()} ({', '.join(cpu_flags())}), no GPU; float32, {args.size}x{args.size}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            model, channels = _network(spec)
            for fmt in args.formats.split(","):
                rows.append(_row(spec, fmt, model, channels, args.size, Path(tmp)))
                _print(rows[-1])
    passed = sum(r["ok"] for r in rows)
    print(f"{passed} of {len(rows)} exports ran in their runtime within {TOLERANCE:.0e} of torch")
    if args.out:
        write_text_atomic(args.out, json.dumps({"cpu_flags": cpu_flags(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
