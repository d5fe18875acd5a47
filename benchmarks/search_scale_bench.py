"""Search at the paper's scale: 7^8 = 5,764,801 networks (specs/nafnet_gopro.arch, 8 slots x 7
candidates) on an objective whose exact Pareto front is known.

The objective (benchmarks/data/nafnet_gopro_s24_objective.json, made by search_scale_objective.py
from a real run): latency additive per slot from the run's `s24` block table; PSNR drop = the
measured single-slot drops plus measured pairwise interactions. Its exact front comes from
`runtime/search/exact.py` (all 5.8 M networks, chunked). Every strategy runs through the engine
(`run_search`, a temporary journal) for the largest budget; the hypervolume of the networks found
after 50 / 100 / 200 evaluations is divided by the exact front's.

Reference point (the same for every hypervolume, and given to BoTorch as its `ref_drop` /
`ref_latency`, as search_bench.py does): the exact front's nadir (its largest drop, its largest
latency) pushed out by 10 % of the front's range in each objective, so every front point counts.

Goal: botorch >= 0.95 at 100 evaluations and ahead of every other strategy.

    nice -n 10 .venv/bin/python benchmarks/search_scale_bench.py            # everything, 5 seeds
    .venv/bin/python benchmarks/search_scale_bench.py --seeds 1 --budgets 50 --strategies random tpe

Results go to --out (JSON, one entry per strategy and seed, written as each run finishes; a rerun
skips the entries already there and extends shorter ones, BoTorch's exactly; --include merges other
result files, e.g. of runs in parallel) and a PNG of hypervolume fraction vs evaluations next to it.
`s/run`: mean seconds of the runs that reached the largest budget (an extended run counts both parts).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ARCHC_BOTORCH_FUSED", "1")

import archc  # noqa: E402
from archc.compiler.space import SearchSpace  # noqa: E402
from archc.runtime.search.engine import run_search  # noqa: E402
from archc.runtime.search.exact import SeparableObjective, exact_front  # noqa: E402
from archc.runtime.search.journal import Evaluation, Journal  # noqa: E402
from archc.runtime.search.pareto import hypervolume_2d  # noqa: E402
from archc.runtime.search.run import SearchSetup, make_strategy  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "nafnet_gopro_s24_objective.json"
STRATEGIES = {"botorch": ("botorch", 1), "botorch-q4": ("botorch", 4), "nsga2": ("nsga2", 1),
              "random": ("random", 1), "tpe": ("tpe", 1)}


def _load(path: Path, key: str) -> list[dict[str, Any]]:
    saved = json.loads(path.read_text()) if path.is_file() else {}
    return list(saved.get("runs", [])) if saved.get("objective_sha1") == key else []


def _merge(runs: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One run per (strategy, seed): the longest."""
    best: dict[tuple[str, int], dict[str, Any]] = {}
    for r in [*runs, *more]:
        k = (r["strategy"], r["seed"])
        if k not in best or r["budget"] > best[k]["budget"]:
            best[k] = r
    return list(best.values())


def cpu() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "?")
    flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), [])
    simd = sorted(f for f in flags if f.startswith(("avx512", "avx2", "amx")) or "vnni" in f)
    return f"{model}, {os.cpu_count()} cores; {' '.join(simd)}"


def reference(front: np.ndarray) -> list[float]:
    lo, hi = front.min(axis=0), front.max(axis=0)
    return (hi + 0.1 * (hi - lo)).tolist()


def _replay(setup: SearchSetup, journal: Journal, indices: list[list[int]], strategy: str) -> None:
    """Write an earlier, shorter run of the same strategy and seed into `journal`, so that the
    engine resumes it (a BoTorch proposal depends only on the history and the seed: resuming
    gives the run one would get from scratch)."""
    for order, idx in enumerate(indices):
        t = tuple(idx)
        journal.append(Evaluation(setup.space.canonical(setup.space.decode(t)), t, setup.objectives(t), 0.0,
                                  strategy, order))


def one_run(setup: SearchSetup, label: str, seed: int, budget: int, ref: list[float], true_hv: float,
            earlier: dict[str, Any] | None = None) -> dict[str, Any]:
    name, batch = STRATEGIES[label]
    strat = make_strategy(name, setup, seed, budget, None, None)
    if name == "botorch":
        strat.ref_drop, strat.ref_latency = ref  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "j.jsonl")
        if earlier is not None:
            _replay(setup, journal, earlier["indices"], strat.name)
        hist = run_search(setup.space, setup.objectives, strat, budget, journal, batch, seed)
    secs = time.perf_counter() - t0 + (earlier["seconds"] if earlier is not None else 0.0)
    pts = np.array([[e.psnr_drop, e.latency_ms] for e in hist])
    trace = [hypervolume_2d(pts[: i + 1], ref) / true_hv for i in range(len(pts))]
    return {"strategy": label, "seed": seed, "budget": budget, "seconds": secs, "hv_fraction": trace,
            "indices": [list(e.indices) for e in hist]}


def table(results: list[dict[str, Any]], labels: list[str], budgets: list[int]) -> str:
    head = f"{'strategy':<11}" + "".join(f"{f'@{b}':>21}" for b in budgets) + f"{'s/run':>9}{'seeds':>7}"
    lines = [head]
    for label in labels:
        rows = [r for r in results if r["strategy"] == label]
        if not rows:
            continue
        cells = []
        for b in budgets:
            v = [r["hv_fraction"][b - 1] for r in rows if len(r["hv_fraction"]) >= b]
            sd = statistics.stdev(v) if len(v) > 1 else 0.0
            n = "" if len(v) == len(rows) else f" ({len(v)})"
            cells.append(f"{statistics.mean(v):.3f} ± {sd:.3f}{n}" if v else "-")
        full = [r["seconds"] for r in rows if r["budget"] >= max(budgets)]
        secs = f"{statistics.mean(full):.1f}" if full else "-"
        lines.append(f"{label:<11}" + "".join(f"{c:>21}" for c in cells) + f"{secs:>9}{len(rows):>7}")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], labels: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for label in labels:
        traces = [r["hv_fraction"] for r in results if r["strategy"] == label]
        if not traces:
            continue
        n = min(len(t) for t in traces)
        arr = np.array([t[:n] for t in traces])
        x = np.arange(1, n + 1)
        ax.plot(x, arr.mean(axis=0), label=f"{label} ({len(traces)} seeds)")
        ax.fill_between(x, arr.min(axis=0), arr.max(axis=0), alpha=0.15)
    ax.axhline(0.95, ls="--", c="grey", lw=1)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume / exact front's")
    ax.set_title(title)
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objective", default=str(DATA))
    ap.add_argument("--spec", default=str(ROOT / "specs" / "nafnet_gopro.arch"))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=list(STRATEGIES))
    ap.add_argument("--out", default="/tmp/archc_search_scale.json")
    ap.add_argument("--include", nargs="*", default=[], help="more result files (same objective) to merge in")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    print(f"CPU: {cpu()}")
    raw = Path(args.objective).read_bytes()
    obj = SeparableObjective.from_json(json.loads(raw)["objective"])
    spec = archc.parse(args.spec)
    space = SearchSpace.of(spec)
    assert space.radices == obj.radices, f"{args.objective} is not an objective over {args.spec}'s space"
    t0 = time.perf_counter()
    front, _ = exact_front(obj)
    ref = reference(front)
    true_hv = hypervolume_2d(front, ref)
    print(f"exact front: {len(front)} of {obj.size:,} networks in {time.perf_counter() - t0:.1f} s; "
          f"reference point (drop dB, latency ms) {ref[0]:.4f}, {ref[1]:.3f}; hypervolume {true_hv:.4f}")
    setup = SearchSetup(spec, space, obj, obj.latency_rows, "modelled", "s24")
    key = hashlib.sha1(raw).hexdigest()
    out = Path(args.out)
    results = _load(out, key)
    for other in args.include:
        results = _merge(results, _load(Path(other), key))
    budget = max(args.budgets)
    for label in args.strategies:
        for seed in range(args.seeds):
            mine = [r for r in results if r["strategy"] == label and r["seed"] == seed]
            if any(r["budget"] >= budget for r in mine):
                continue
            r = one_run(setup, label, seed, budget, ref, true_hv, max(mine, key=lambda r: r["budget"], default=None))
            results = _merge(results, [r])
            print(f"{label} seed {seed}: " + ", ".join(f"@{b} {r['hv_fraction'][b - 1]:.3f}" for b in args.budgets)
                  + f" ({r['seconds']:.0f} s)", flush=True)
            out.write_text(json.dumps({"objective_sha1": key, "reference_point": ref, "exact_hv": true_hv,
                                       "exact_front_size": len(front), "cpu": cpu(), "runs": results}) + "\n")
    done = [r for r in results if r["seed"] < args.seeds and r["strategy"] in args.strategies]
    out.write_text(json.dumps({"objective_sha1": key, "reference_point": ref, "exact_hv": true_hv,
                               "exact_front_size": len(front), "cpu": cpu(), "runs": results}) + "\n")
    print(f"\nhypervolume / exact front's hypervolume, mean ± sd over seeds (at most {args.seeds})")
    print(table(done, args.strategies, args.budgets))
    png = out.with_suffix(".png")
    plot(done, args.strategies, png, f"nafnet_gopro, 7^8 networks: exact front {len(front)} points")
    print(f"wrote {out}, {png}")


if __name__ == "__main__":
    main()
