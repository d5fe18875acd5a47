"""Start-up of the language tools: wall time and peak RSS of `archc --help`, `archc fmt`,
`archc check` and `archc blocks`, each a fresh process, against `import torch, scipy.signal`
(what the command line used to load at start-up) measured in the same run.

    .venv/bin/python benchmarks/startup_bench.py [--spec specs/nafnet_gopro.arch] [--repeats 5]

The grammar cache is measured warm (the usual case) and cold (`ARCHC_GRAMMAR_CACHE=0`).
`--baseline DIR` also runs every command with DIR first on PYTHONPATH (a package tree of another
checkout: DIR/archc with dsl, compiler, runtime and grammar inside), interleaved with this tree's
runs, and prints both side by side. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from archc.cli import main; main(sys.argv[1:])"


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = 0  # reaped by wait4
    rss_kb = usage.ru_maxrss  # kilobytes on Linux
    return wall, rss_kb / 1024


def _cases(spec: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    py = sys.executable
    # -P: like the console script, do not put the working directory (which holds archc/) on sys.path
    cold = {"ARCHC_GRAMMAR_CACHE": "0"}
    return {
        "archc --help": ([py, "-P", "-c", CLI, "--help"], {}),
        "archc fmt SPEC": ([py, "-P", "-c", CLI, "fmt", spec], {}),
        "archc check SPEC": ([py, "-P", "-c", CLI, "check", spec], {}),
        "archc check SPEC (cold cache)": ([py, "-P", "-c", CLI, "check", spec], cold),
        "archc blocks": ([py, "-P", "-c", CLI, "blocks"], {}),
        "import torch, scipy.signal": ([py, "-c", "import torch, scipy.signal"], {}),
    }


def _measure(
    cases: dict[str, tuple[list[str], dict[str, str]]], trees: dict[str, dict[str, str]], repeats: int
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {(t, c): [] for t in trees for c in cases}
    for _ in range(repeats):  # interleaved, so load on a shared machine spreads evenly
        for name, (argv, extra) in cases.items():
            for tree, env in trees.items():
                runs[tree, name].append(_run(argv, {**os.environ, **env, **extra}))
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="specs/nafnet_gopro.arch")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline", help="package tree of another checkout to compare with")
    args = ap.parse_args()
    cases = _cases(args.spec)
    trees = {"this tree": {}}
    if args.baseline:
        trees["baseline"] = {"PYTHONPATH": args.baseline}
    runs = _measure(cases, trees, args.repeats)
    print(f"{'tree':<10} {'command':<32} {'median s':>9} {'min s':>7} {'peak RSS MB':>12}")
    for (tree, name), figures in runs.items():
        walls = [w for w, _ in figures]
        med, low, rss = statistics.median(walls), min(walls), max(r for _, r in figures)
        print(f"{tree:<10} {name:<32} {med:9.2f} {low:7.2f} {rss:12.0f}")


if __name__ == "__main__":
    main()
