"""Ray's overhead on distillation: every surrogate of nafnet_tiny's search space on a local
2-CPU Ray cluster against `--cluster local --jobs 2`, interleaved, fresh run folders each time.

    .venv/bin/python benchmarks/cluster_bench.py [--iters 200] [--repeats 2] [--workdir DIR]

The Ray cluster is started once before timing (as a user's cluster would be) and bound to
127.0.0.1; its start-up time is printed apart. Both backends train the same jobs with one torch
thread each; the teacher's feature pass runs in the driver on both, so the figure that compares
backends is the jobs phase (first job started -> last job finished), as surrogates per second.
The surrogates must come out identical. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from distill_bench import _data, _distill, _max_diff, _teacher

from archc.runtime.accel import accelerator
from archc.runtime.cluster import WorkerSetup, open_executor
from archc.runtime.distill import DistillRun


def cpu_flags() -> str:
    return ", ".join(accelerator.cpu_flags()) or "unknown"


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data")
    p.add_argument("--teacher")
    p.add_argument("--teacher-iters", type=int, default=300)
    p.add_argument("--iters", type=int, default=200, help="steps per surrogate")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--crops-per-image", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--workdir")
    args = p.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="cluster_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data = _data(args, work)
    teacher = _teacher(args, work, data)
    print(f"CPU: {os.cpu_count()} cores ({cpu_flags()}); torch {torch.__version__}; no GPU used")
    os.environ.pop("RAY_ADDRESS", None)
    t = time.perf_counter()
    ray_ex = open_executor("ray", 2, WorkerSetup(threads=1))
    print(f"local Ray started in {time.perf_counter() - t:.1f} s: {ray_ex.describe()['where']}")
    local_ex = open_executor("local", 2, WorkerSetup(threads=1))
    rates: dict[str, list[float]] = {"local --jobs 2": [], "ray (2 CPUs)": []}
    runs: dict[str, DistillRun] = {}
    try:
        for r in range(args.repeats):
            order = list(zip(rates, (local_ex, ray_ex), strict=True))
            for name, ex in order if r % 2 == 0 else order[::-1]:
                wall, first, run = _distill(args, data, teacher, work / f"{name.split()[0]}{r}", 2, 1, ex)
                phase = wall - first
                rates[name].append(len(run.trained) / phase)
                runs[name] = run
                print(
                    f"repeat {r}: {name:15} {wall:6.1f} s wall, jobs phase {phase:6.1f} s, "
                    f"{rates[name][-1]:.3f} surrogates/s ({len(run.trained)} surrogates)"
                )
    finally:
        local_ex.close()
        ray_ex.close()
    local, ray = (statistics.median(v) for v in rates.values())
    diff = _max_diff(runs["local --jobs 2"].bank.root, runs["ray (2 CPUs)"].bank.root)
    print(
        f"\nthroughput ratio ray / local: {ray / local:.3f} (medians {ray:.3f} vs {local:.3f} surrogates/s); "
        f"max |difference| between their surrogates: {diff:.1e}"
    )
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
