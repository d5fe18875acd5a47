"""Search benchmark: on a space small enough to enumerate (specs/nafnet_tiny.arch: 4 slots x 4
candidates = 256 networks), evaluate every network for real (surrogate-assembled PSNR drop,
block-table latency), compute the true Pareto front, then run botorch, random and nsga2 with
5 seeds each and print the hypervolume reached after 10, 20 and 40 evaluations as a fraction of
the true front's. Goal: botorch >= 0.95 by 40 evaluations, ahead of both peers at every budget.

    .venv/bin/python benchmarks/search_bench.py --weights RUN/teacher/weights.safetensors \\
        --surrogates RUN/distill/surrogates --data DATA --latency RUN/profile/latency.json

The exhaustive table is cached in --cache (default /tmp/archc_search_truth.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ARCHC_BOTORCH_FUSED", "1")

import archc  # noqa: E402
from archc.compiler.space import SearchSpace  # noqa: E402
from archc.runtime.data.datasets import open_dataset  # noqa: E402
from archc.runtime.profile.table import table_from_record  # noqa: E402
from archc.runtime.search.engine import run_search  # noqa: E402
from archc.runtime.search.journal import Journal  # noqa: E402
from archc.runtime.search.objectives import QualityEvaluator, latency_matrix, rows_latency  # noqa: E402
from archc.runtime.search.pareto import front_indices, hypervolume_2d, knee  # noqa: E402
from archc.runtime.search.run import SearchSetup, make_strategy  # noqa: E402

BUDGETS = (10, 20, 40)


def truth(args: argparse.Namespace, spec, space) -> np.ndarray:  # type: ignore[no-untyped-def]
    cache = Path(args.cache)
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data.get("key") == [args.weights, args.surrogates, args.latency, space.size]:
            return np.array(data["points"])
    table = table_from_record(spec, json.loads(Path(args.latency).read_text()))
    base, matrix = latency_matrix(space, table.predict)
    lat = rows_latency(base, matrix)
    quality = QualityEvaluator(spec, space, args.weights, args.surrogates, open_dataset(args.data, split="test"),
                               args.val_images, args.crop)
    t0 = time.perf_counter()
    pts = []
    for flat in range(space.size):
        idx = space.indices_at(flat)
        pts.append([quality(idx)["psnr_drop"], float(lat(np.array([idx]))[0])])
    print(f"evaluated all {space.size} networks in {time.perf_counter() - t0:.0f} s")
    cache.write_text(json.dumps({"key": [args.weights, args.surrogates, args.latency, space.size], "points": pts}))
    return np.array(pts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=str(ROOT / "specs" / "nafnet_tiny.arch"))
    ap.add_argument("--weights", required=True)
    ap.add_argument("--surrogates", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--latency", required=True, help="latency.json of `archc profile`")
    ap.add_argument("--val-images", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cache", default="/tmp/archc_search_truth.json")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    spec = archc.parse(args.spec)
    space = SearchSpace.of(spec)
    pts = truth(args, spec, space)
    base_lat = pts[0, 1]
    ref = [float(pts[:, 0].max()) * 1.1, float(pts[:, 1].max()) * 1.1]
    front = front_indices(pts)
    true_hv = hypervolume_2d(pts[front], ref)
    lookup = {space.indices_at(i): {"psnr_drop": float(p[0]), "latency_ms": float(p[1])} for i, p in enumerate(pts)}
    lat_rows = lambda rows: np.array([lookup[tuple(int(v) for v in r)]["latency_ms"] for r in rows])  # noqa: E731
    setup = SearchSetup(spec, space, lambda idx: lookup[tuple(idx)], lat_rows, "bench", "bench")
    print(f"true front: {len(front)} of {space.size} networks; reference point {ref}; "
          f"true hypervolume {true_hv:.4f}")
    table: dict[str, list[list[float]]] = {}
    for name in ("botorch", "random", "nsga2"):
        rows = []
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as tmp:
                strat = make_strategy(name, setup, seed, max(BUDGETS), None, None)
                if name == "botorch":
                    strat.ref_drop, strat.ref_latency = ref  # type: ignore[attr-defined]
                t0 = time.perf_counter()
                hist = run_search(space, setup.objectives, strat, max(BUDGETS), Journal(Path(tmp) / "j.jsonl"))
                secs = time.perf_counter() - t0
            got = np.array([[e.psnr_drop, e.latency_ms] for e in hist])
            rows.append([hypervolume_2d(got[:b], ref) / true_hv for b in BUDGETS] + [secs])
        table[name] = rows
    print(f"\nhypervolume / true hypervolume, mean (min) over {args.seeds} seeds")
    print(f"{'strategy':<10}" + "".join(f"{f'@{b}':>16}" for b in BUDGETS) + f"{'s/run':>9}")
    for name, rows in table.items():
        cells = [f"{statistics.mean(r[i] for r in rows):.3f} ({min(r[i] for r in rows):.3f})" for i in range(3)]
        print(f"{name:<10}" + "".join(f"{c:>16}" for c in cells) + f"{statistics.mean(r[3] for r in rows):>9.1f}")
    k = knee(pts)
    fastest = int(np.argmin(pts[:, 1]))
    for label, i in (("knee", k), ("fastest", fastest)):
        print(f"{label}: {space.canonical(space.decode(space.indices_at(i)))}: PSNR drop {pts[i, 0]:.3f} dB, "
              f"latency {pts[i, 1]:.3f} ms, speed-up {base_lat / pts[i, 1]:.3f}x over the baseline")


if __name__ == "__main__":
    sys.exit(main())
