"""The `.pte` export before and after the XNNPACK forms (compiler/xnnpack_forms.py), side by side.

For each network, both programs are converted in this process (float32, dynamic height and width,
as `archc export --format pte` writes them), then loaded in ExecuTorch and run in turn (interleaved
rounds, 1 thread, median). Per network and variant it prints: the pieces delegated to XNNPACK, the
ops left outside them (by name), the conversion's wall and CPU seconds, the runtime per frame, and
the max |difference| to the torch module on one random input. A row is printed as soon as its
network is done, so a cut-short run still reports the networks it finished.

Networks: specs/nafnet_tiny.arch, baseline_tiny, restormer_tiny at 64x64 (weights moved off their
initial values: fresh residual scales are 0) and specs/nafnet_small.arch with
pretrained:nafnet_small at 128x128.

    python benchmarks/pte_lowering_bench.py [--networks nafnet_tiny,restormer_tiny] [--rounds 20] [--litert]

`--litert`: the same comparison for the `.tflite` export (LiteRT's converter at the fixed size, its
interpreter with XNNPACK), to see whether the forms pay off there too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import archc
from archc.compiler.files import write_text_atomic
from archc.compiler.mobile import prepared, quiet, sample_input
from archc.compiler.pte_export import PteRunner, delegation, lowered
from archc.compiler.xnnpack_forms import xnnpack_forms
from archc.runtime.accel.accelerator import cpu_flags

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = {  # name -> (spec, weights, size)
    "nafnet_tiny": ("nafnet_tiny", None, 64),
    "baseline_tiny": ("baseline_tiny", None, 64),
    "restormer_tiny": ("restormer_tiny", None, 64),
    "nafnet_small": ("nafnet_small", "pretrained:nafnet_small", 128),
}
VARIANTS = {"before": False, "after": True}


def _network(name: str) -> tuple[torch.nn.Module, int]:
    spec, weights, size = NETWORKS[name]
    model = archc.build(ROOT / "specs" / f"{spec}.arch", weights=weights).eval()
    return (moved_off_init(model, 0.1) if weights is None else model), size


def moved_off_init(model: torch.nn.Module, scale: float) -> torch.nn.Module:
    """`model` with seeded noise of `scale` added to every weight, in place: a fresh network's zero
    residual scales would hide its blocks from a comparison (and a converter could fold them)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return model


def _convert(model: torch.nn.Module, size: int, forms: bool) -> dict[str, Any]:
    """One float32 `.pte` with dynamic height and width: bytes, census and seconds."""
    net = prepared(model)
    x = sample_input(net, 3, (size, size))
    wall, cpu = time.perf_counter(), time.process_time()
    with quiet(), torch.no_grad():
        edge = lowered(net, x, True, "fp32", None, forms=forms)
        pieces, outside = delegation(edge)  # before to_executorch adds its memory planning
        data = bytes(edge.to_executorch().buffer)
    return {
        "data": data,
        "pieces": pieces,
        "outside": dict(outside),
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
    }


def _timed(runners: dict[str, PteRunner], x: np.ndarray, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {k: [] for k in runners}
    for runner in runners.values():
        runner.run(x)
    for _ in range(rounds):
        for key, runner in runners.items():
            t0 = time.perf_counter()
            runner.run(x)
            samples[key].append(time.perf_counter() - t0)
    return {k: statistics.median(v) * 1e3 for k, v in samples.items()}


def _bench(name: str, rounds: int) -> list[dict[str, Any]]:
    model, size = _network(name)
    out = {v: _convert(model, size, forms) for v, forms in VARIANTS.items()}
    runners = {v: PteRunner(r["data"]) for v, r in out.items()}
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model(x).numpy()
    ms = _timed(runners, x.numpy(), rounds)
    rows = []
    for v, r in out.items():
        diff = float(np.abs(runners[v].run(x.numpy()) - ref).max())
        rows.append(
            {
                "network": name,
                "size": size,
                "variant": v,
                "ms": ms[v],
                "max_abs_diff": diff,
                "bytes": len(r["data"]),
                **{k: r[k] for k in ("pieces", "outside", "wall_s", "cpu_s")},
            }
        )
    return rows


def _print(row: dict[str, Any]) -> None:
    outside = ", ".join(f"{k} x{n}" for k, n in sorted(row["outside"].items())) or "none"
    print(
        f"| {row['network']} {row['size']}x{row['size']} | {row['variant']} | {row['pieces']} "
        f"| {sum(row['outside'].values())} ({outside}) | {row['wall_s']:.0f} / {row['cpu_s']:.0f} "
        f"| {row['ms']:.2f} | {row['max_abs_diff']:.1e} |",
        flush=True,
    )


def _litert(name: str, rounds: int) -> list[dict[str, Any]]:
    """The same networks as `.tflite` (fixed size; LiteRT's converter, its interpreter with XNNPACK,
    1 thread), converted as they are and in the XNNPACK forms: whether the forms pay off there too."""
    from archc.compiler.tflite_export import TfliteRunner, to_tflite

    model, size = _network(name)
    variants = {"before": model, "after": xnnpack_forms(prepared(model))}
    out = {}
    for v, net in variants.items():
        wall, cpu = time.perf_counter(), time.process_time()
        data, _ = to_tflite(net, 3, (size, size))
        out[v] = (data, time.perf_counter() - wall, time.process_time() - cpu)
    runners = {v: TfliteRunner(r[0]) for v, r in out.items()}
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    ms = _timed(runners, x.numpy(), rounds)  # type: ignore[arg-type]
    with torch.no_grad():
        ref = model(x).numpy()
    return [
        {
            "network": name,
            "size": size,
            "variant": v,
            "ms": ms[v],
            "wall_s": r[1],
            "cpu_s": r[2],
            "max_abs_diff": float(np.abs(runners[v].run(x.numpy()) - ref).max()),
        }
        for v, r in out.items()
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--litert", action="store_true", help="LiteRT instead of ExecuTorch")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "pte_lowering_bench.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.litert:
        print(
            "| network | forms | conversion s (wall / CPU) | ms per frame | max abs diff to torch |\n"
            "|---|---|---:|---:|---:|"
        )
        for name in args.networks.split(","):
            for r in _litert(name, args.rounds):
                print(
                    f"| {name} | {r['variant']} | {r['wall_s']:.0f} / {r['cpu_s']:.0f} | {r['ms']:.2f} "
                    f"| {r['max_abs_diff']:.1e} |",
                    flush=True,
                )
        return
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

    _unsafe_reset_threadpool(1)
    print(
        f"measured on this machine: ExecuTorch {_version()}, 1 thread, median of {args.rounds} interleaved rounds;"
        f" CPU flags: {', '.join(cpu_flags())}; {os.cpu_count()} cores\n"
    )
    print(
        "| network | forms | XNNPACK pieces | ops outside | conversion s (wall / CPU) | ms per frame "
        "| max abs diff to torch |\n|---|---|---:|---|---:|---:|---:|",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    for name in args.networks.split(","):
        for row in _bench(name, args.rounds):
            _print(row)
            rows.append(row)
        write_text_atomic(
            args.out, json.dumps({"cpu_flags": cpu_flags(), "label": "measured", "rows": rows}, indent=1) + "\n"
        )


def _version() -> str:
    from importlib.metadata import version

    return version("executorch")


if __name__ == "__main__":
    main()
