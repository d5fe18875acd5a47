"""Search strategies against evaluation budgets, on a finished `archc run` (the demo's).

Every strategy searches the run's space with the run's teacher, surrogates, validation crops and
device latencies (`--device cpu`: the run's measured block table; `--device s24`: the modelled
device at its own default size):
  botorch          BoTorch from the additive prediction (the teacher + networks spread along the
                   prediction's front, a residual GP over the prediction);
  botorch-random   BoTorch with a random initial design and no prediction (the old behaviour);
  random, tpe, nsga2  the baselines;
  additive         the additive prediction alone: the teacher + networks spread along its front.
Figures per (strategy, budget), mean and range over seeds: the front's hypervolume (one
reference point for every run: the run's own search.json reference point for `cpu`, else PSNR
drop 2 dB and the teacher's latency), the best speed-up within 0.1 / 0.2 / 0.3 / 0.5 dB of the
teacher (latencies measured-then-summed on cpu, modelled on s24, as the search sees them) and the
strategy's own seconds (proposing; scoring is excluded, because a network's quality is cached
across strategies, seeds and devices in RUN/search_budget_bench_quality.json: each network is
scored once, on the search's validation crops (drawn across the test split's scenes), and the mean
scoring time is printed).

A search with batch 1 proposes from its history alone, so for botorch, botorch-random, random and
tpe the run at a smaller budget is the first evaluations of the run at the largest; these run once
per seed at the largest budget. nsga2 (its population follows the budget) and additive (its
spread follows the budget) run once per budget.

    python benchmarks/search_budget_bench.py runs/demo --device cpu
    python benchmarks/search_budget_bench.py runs/demo --device s24 --budgets 8,16,24 --seeds 2

Writes RUN/search_budget_bench_DEVICE.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archc.api import parse
from archc.compiler.files import write_text_atomic
from archc.compiler.space import SearchSpace
from archc.runtime.accel.accelerator import cpu_flags
from archc.runtime.data.datasets import open_dataset
from archc.runtime.search.additive import load, plugin_report
from archc.runtime.search.engine import run_search
from archc.runtime.search.journal import Evaluation, Journal
from archc.runtime.search.objectives import NetworkObjectives, QualityEvaluator, latency_matrix, rows_latency
from archc.runtime.search.pareto import hypervolume_2d, speedup_within
from archc.runtime.search.run import SearchSetup, make_strategy

STRATEGIES = ("botorch", "botorch-random", "random", "tpe", "nsga2", "additive")
PREFIX_SAFE = {"botorch", "botorch-random", "random", "tpe"}
DROPS = (0.1, 0.2, 0.3, 0.5)


class Cached:
    """The objectives of a network: its quality scored once for every strategy, seed and device
    (kept in `path`, keyed by the network's canonical string and the validation images), its
    latency from the device's block table."""

    def __init__(self, setup: SearchSetup, quality: QualityEvaluator, path: Path) -> None:
        self.setup, self.quality, self.path = setup, quality, path
        self.tag = ",".join(quality.names) + f"@{quality.blur.shape[-1]}"
        stored = json.loads(path.read_text()) if path.is_file() else {}
        self.known: dict[str, dict[str, float]] = stored.get(self.tag, {})
        self.seconds: list[float] = []

    def seed_from(self, search: Path) -> int:
        """Take the qualities a search in `search` scored on the same validation crops (its journal)."""
        r = json.loads((search / "search.json").read_text()) if (search / "search.json").is_file() else {}
        val = r.get("validation") or {}
        if ",".join(val.get("images", ())) + f"@{val.get('crop')}" != self.tag:
            return 0
        fresh = {
            e.canonical: {k: v for k, v in e.objectives.items() if k != "latency_ms"}
            for e in Journal(search / "journal.jsonl").load()
            if e.canonical not in self.known
        }
        self.known.update(fresh)
        return len(fresh)

    def __call__(self, idx: tuple[int, ...]) -> dict[str, float]:
        key = self.setup.space.canonical_of(idx)
        if key not in self.known:
            t0 = time.perf_counter()
            self.known[key] = self.quality(tuple(int(i) for i in idx))
            self.seconds.append(time.perf_counter() - t0)
            stored = json.loads(self.path.read_text()) if self.path.is_file() else {}  # another device's run
            stored.setdefault(self.tag, {}).update(self.known)
            write_text_atomic(self.path, json.dumps(stored) + "\n")
        assert self.setup.latency_rows is not None
        return {**self.known[key], "latency_ms": float(self.setup.latency_rows.one(idx))}


def _setup(run: Path, search: Path, device: str, out: Path) -> tuple[SearchSetup, QualityEvaluator, dict[str, Any]]:
    from archc.runtime.pipeline.search_inputs import block_latency as _latency

    r = json.loads((search / "search.json").read_text())
    spec = parse(r["spec"])
    names = {s.name for s in spec.search.slots} if spec.search else set()
    space = SearchSpace.of(spec, exclude=[s for s in r["space"]["excluded"] if s in names])
    latency = str(run / "profile" / "latency.json") if device == r["device"] else None
    table, source = _latency(spec, space, device, latency, out, None)
    rows = rows_latency(*latency_matrix(space, table.predict))
    quality = QualityEvaluator(
        spec,
        space,
        r["teacher"],
        r["surrogates"],
        open_dataset(r["data"], split="test"),
        len(r["validation"]["images"]),
        r["validation"]["crop"],
    )
    prior = load(space, plugin_report(r["surrogates"]), rows.base, rows.matrix)
    setup = SearchSetup(spec, space, NetworkObjectives(quality, rows.one), rows, source, device, {}, prior)
    return setup, quality, r


def _history(
    setup: SearchSetup, cached: Cached, strategy: str, budget: int, seed: int
) -> tuple[list[Evaluation], float]:
    with tempfile.TemporaryDirectory() as tmp:
        strat = make_strategy(strategy, setup, seed, budget, None, None)
        t0 = time.perf_counter()
        n_scored = len(cached.seconds)
        history = run_search(setup.space, cached, strat, budget, Journal(Path(tmp) / "j.jsonl"), seed=seed)
        scoring = sum(cached.seconds[n_scored:])
        return history, time.perf_counter() - t0 - scoring


def _figures(history: Sequence[Evaluation], ref: Sequence[float], base_ms: float) -> dict[str, Any]:
    pts = np.array([[e.psnr_drop, e.latency_ms] for e in history])
    within = speedup_within(pts, base_ms, DROPS)
    return {
        "hypervolume": hypervolume_2d(pts, ref),
        **{f"speedup@{d:g}": (w["speedup"] if w else 1.0) for d, w in zip(DROPS, within.values(), strict=True)},
    }


def _runs(
    setup: SearchSetup,
    cached: Cached,
    strategy: str,
    budgets: Sequence[int],
    seeds: Sequence[int],
    ref: Sequence[float],
    base_ms: float,
    log: Callable[[str], None],
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {b: [] for b in budgets}
    for seed in seeds:
        if strategy in PREFIX_SAFE:
            history, seconds = _history(setup, cached, strategy, max(budgets), seed)
            for b in budgets:  # the strategy's seconds up to b: its share by evaluations (prefix)
                out[b].append({**_figures(history[:b], ref, base_ms), "seconds": seconds * b / max(budgets)})
        else:
            for b in budgets:
                history, seconds = _history(setup, cached, strategy, b, seed)
                out[b].append({**_figures(history, ref, base_ms), "seconds": seconds})
        log(
            f"{strategy} seed {seed}: "
            + ", ".join(
                f"{b}: hv {out[b][-1]['hypervolume']:.2f}, x{out[b][-1]['speedup@0.3']:.2f}@0.3" for b in budgets
            )
        )
        if strategy == "additive":
            break  # the additive design does not depend on the seed
    return out


def _table(results: dict[str, dict[int, list[dict[str, Any]]]], budgets: Sequence[int]) -> str:
    keys = ["hypervolume", *(f"speedup@{d:g}" for d in DROPS), "seconds"]
    lines = ["| strategy | budget | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for name, by_budget in results.items():
        for b in budgets:
            runs = by_budget[b]
            cells = []
            for k in keys:
                v = np.array([r[k] for r in runs])
                cells.append(f"{v.mean():.3f} [{v.min():.3f}, {v.max():.3f}]" if len(v) > 1 else f"{v.mean():.3f}")
            lines.append(f"| {name} | {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path)
    ap.add_argument("--device", default="cpu", help="cpu (the run's measured block table) or s24 (modelled)")
    ap.add_argument("--budgets", default="8,16,24,48,96")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--search", type=Path, help="The search folder whose settings to reuse (default: RUN/search)")
    ap.add_argument(
        "--reference",
        help="DROP,MS: the hypervolume reference point (default: the run's search.json's "
        "on its own device, else 2 dB and the teacher's latency)",
    )
    args = ap.parse_args()
    budgets = sorted(int(b) for b in args.budgets.split(","))
    seeds = list(range(args.seeds))
    bench_dir = args.run / f"search_budget_bench_{args.device}"
    setup, quality, shipped = _setup(args.run, args.search or args.run / "search", args.device, bench_dir)
    cached = Cached(setup, quality, args.run / "search_budget_bench_quality.json")
    print(f"qualities taken from the run's own search: {cached.seed_from(args.run / 'search')}")
    base_ms = setup.latency_rows.one((0,) * len(setup.space.radices)) if setup.latency_rows else 0.0
    ref_point = (
        shipped["reference_point"] if args.device == shipped["device"] else {"psnr_drop": 2.0, "latency_ms": base_ms}
    )
    ref = [float(ref_point["psnr_drop"]), float(ref_point["latency_ms"])]
    if args.reference:
        ref = [float(v) for v in args.reference.split(",")]
    print(
        f"space {setup.space.size:,} networks; latency {setup.latency_source} on {args.device}; "
        f"teacher {base_ms:.3f} ms; reference point {ref}; CPU flags: {', '.join(cpu_flags())}",
        flush=True,
    )
    if setup.additive is None:
        print(f"note: {setup.prior.note if setup.prior else 'no prior'}: botorch falls back to a random design")
    results: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for name in args.strategies.split(","):
        cached.seed_from(args.run / "search")  # a search still running when this started may be done now
        results[name] = _runs(setup, cached, name, budgets, seeds, ref, base_ms, lambda m: print(m, flush=True))
        _write(args, setup, ref, base_ms, budgets, seeds, cached, results)  # what is done survives a stop
    table = _table(results, budgets)
    print(
        f"\n{table}\n\nnetworks scored here: {len(cached.seconds)} (mean {_mean(cached.seconds)} s each); "
        f"{len(cached.known)} known"
    )


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _write(
    args: argparse.Namespace,
    setup: SearchSetup,
    ref: Sequence[float],
    base_ms: float,
    budgets: Sequence[int],
    seeds: Sequence[int],
    cached: Cached,
    results: dict[str, dict[int, list[dict[str, Any]]]],
) -> None:
    record = {
        "run": str(args.run),
        "device": args.device,
        "latency_source": setup.latency_source,
        "reference_point": list(ref),
        "baseline_ms": base_ms,
        "budgets": list(budgets),
        "seeds": list(seeds),
        "cpu_flags": cpu_flags(),
        "mean_scoring_s": _mean(cached.seconds),
        "results": {s: {str(b): r for b, r in by.items()} for s, by in results.items()},
        "table": _table(results, budgets),
    }
    write_text_atomic(args.run / f"search_budget_bench_{args.device}.json", json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
