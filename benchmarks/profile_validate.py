"""Block-table additivity on this machine: predict N random networks from the block table and
measure each end to end with ONNX Runtime (CPUExecutionProvider, pinned threads).

    .venv/bin/python benchmarks/profile_validate.py [--spec specs/nafnet_gopro.arch] [--size 256 256]
        [--n 30] [--threads 1] [--repeats 5] [--time-cap 10] [--seed 0] [--out DIR]

Prints the share of predictions within +-10 % and the RMSPE (with and without the additive
correction fitted on the baseline), Kendall's tau, and the wall time. Goal (nn-Meter's bar):
>= 90 % within +-10 %. The full run (30 networks at 256x256) takes tens of minutes on two
cores; `--n 8 --size 128 128` gives a quick look. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import archc
from archc.runtime.profile.measure import Protocol
from archc.runtime.profile.run import Request, execute


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="specs/nafnet_gopro.arch")
    ap.add_argument("--size", nargs=2, type=int, default=(256, 256))
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--time-cap", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: time by process CPU time (1 thread), for a machine shared with other jobs",
    )
    ap.add_argument("--out", default=None, help="run folder (default: a temporary one)")
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="profile_validate_"))
    protocol = Protocol(
        threads=args.threads, warmup=2, min_repeats=args.repeats, time_cap_s=args.time_cap, clock=args.clock
    )
    req = Request(
        archc.parse(args.spec), args.device, tuple(args.size), out, protocol, validate_n=args.n, seed=args.seed
    )
    t0 = time.perf_counter()
    record, table = execute(req)
    wall = time.perf_counter() - t0
    v = record.data["validation"]
    u = v["uncorrected"]
    h, w = args.size
    print(
        f"{args.spec} at {h}x{w}, device {args.device} ({record.data['label']}), {args.threads} thread(s), "
        f"load avg at end {os.getloadavg()[0]:.1f}"
    )
    print(
        f"baseline {table.baseline_ms:.2f} ms, fixed part {table.fixed_ms:.2f} ms, "
        f"correction {table.overhead_ms:+.2f} ms"
    )
    print(
        f"{v['n']} networks: within +-10 %: {100 * v['within_10pct']:.0f} %  RMSPE {v['rmspe_pct']:.1f} %  "
        f"max {v['max_abs_error_pct']:.1f} %  Kendall tau {v.get('kendall_tau') or float('nan'):.3f}"
    )
    print(
        f"  uncorrected (fixed + blocks only): within +-10 %: {100 * u['within_10pct']:.0f} %  "
        f"RMSPE {u['rmspe_pct']:.1f} %"
    )
    print(f"wall time {wall:.0f} s; record {out / 'latency.json'}")


if __name__ == "__main__":
    main()
