"""The demo, timed: `make demo` from a clean run folder, then the same search on the modelled `s24`.

Prints the seconds of every stage and in total (from RUN/run.json, as `archc run` records them), the
found network's speed-up and PSNR drop on `cpu` (measured), and, reusing the demo's teacher,
surrogates and validation crops, the knee of the same search on `s24` (modelled latencies). Writes
RUN/demo_bench.json.

    python benchmarks/demo_bench.py            # runs `make demo` into runs/demo (deleted first)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from ablation_bench import _search, _settings

from archc.compiler.files import write_text_atomic
from archc.runtime.accel.accelerator import cpu_flags

ROOT = Path(__file__).resolve().parents[1]


def _cpu_flags() -> str:
    return ", ".join(cpu_flags())


def _knee(search: Path) -> dict[str, Any]:
    r = json.loads(search.read_text())
    k, base = r["evaluations"][r["knee"]], r["baseline"]["objectives"]
    return {"network": k["canonical"], "latency_ms": k["objectives"]["latency_ms"],
            "baseline_ms": base["latency_ms"], "speedup": base["latency_ms"] / k["objectives"]["latency_ms"],
            "psnr_drop_db": k["objectives"]["psnr_drop"], "latency_source": r["latency_source"],
            "evaluations": len(r["evaluations"])}


def _s24(run: Path) -> dict[str, Any]:
    """The demo's search again, with the same surrogates and validation crops, on modelled `s24`."""
    s = _settings(run)
    t0 = time.perf_counter()
    found = _search(s["spec"], {**s, "device": "s24"}, Path(s["surrogates"]), run / "s24", "botorch", None)
    return {**_knee(found), "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=ROOT / "runs" / "demo", help="the demo's --out (make demo's)")
    ap.add_argument("--reuse", action="store_true", help="time nothing: read an existing run")
    args = ap.parse_args()
    if not args.reuse:
        shutil.rmtree(args.run, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(["make", "-s", "demo"], cwd=ROOT, check=True)
        wall = time.perf_counter() - t0
    log = json.loads((args.run / "run.json").read_text())
    stages = {name: entry["seconds"] for name, entry in log.items() if isinstance(entry, dict) and "seconds" in entry}
    total = sum(stages.values())
    cpu = _knee(args.run / "search" / "search.json")
    s24 = _s24(args.run)
    print(f"CPU: {_cpu_flags()}; {os.cpu_count()} cores\n")
    print("| stage | seconds |\n|---|---:|")
    for name, secs in stages.items():
        print(f"| {name} | {secs:.1f} |")
    print(f"| **total (stages)** | **{total:.1f}** |")
    if not args.reuse:
        print(f"| `make demo` wall time | {wall:.1f} |")
    print("\n| device | latencies | knee | speed-up | PSNR drop |\n|---|---|---|---:|---:|")
    for device, k in (("cpu", cpu), ("s24", s24)):
        print(f"| {device} | {k['latency_source']} | `{k['network']}` | {k['speedup']:.2f}x "
              f"({k['baseline_ms']:.2f} → {k['latency_ms']:.2f} ms) | {k['psnr_drop_db']:.3f} dB |")
    write_text_atomic(args.run / "demo_bench.json", json.dumps(
        {"cpu_flags": _cpu_flags(), "stages": stages, "total_s": total, "cpu": cpu, "s24": s24,
         **({} if args.reuse else {"make_demo_wall_s": wall})}, indent=1))


if __name__ == "__main__":
    main()
