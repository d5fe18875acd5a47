"""Distillation benchmark: every surrogate of nafnet_tiny's search space (4 slots x 3 candidates)
on the synthetic set, distilled with `--jobs 1` and with `--jobs 2` side by side, then the plug-in
PSNR drop of each surrogate on the test split, averaged per candidate.

    .venv/bin/python benchmarks/distill_bench.py [--data DIR] [--teacher WEIGHTS] [--iters 200]
        [--teacher-iters 300] [--val-images 8] [--no-reference] [--workdir DIR]

Without --data a synthetic set is made (`archc data synth`), without --teacher a teacher is trained
for --teacher-iters steps (crop 48, batch 4). A third run, `--jobs 1 --threads 1`, tells process
parallelism from thread scaling (small blocks scale poorly over threads). Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from archc.runtime.cluster import Executor
from archc.runtime.distill import DistillRun

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "specs" / "nafnet_tiny.arch"


def _data(args: argparse.Namespace, work: Path) -> Path:
    if args.data:
        return Path(args.data)
    from archc.runtime.data.synth import synthesize

    out = work / "synth"
    if not out.exists():
        synthesize(out)
    return out


def _teacher(args: argparse.Namespace, work: Path, data: Path) -> Path:
    if args.teacher:
        return Path(args.teacher)
    import archc
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.training.train import TrainConfig, train

    out = work / "teacher"
    if not (out / "weights.safetensors").exists():
        torch.manual_seed(0)
        cfg = TrainConfig(iters=args.teacher_iters, batch=4, crop=48)
        train(archc.build(TINY), open_dataset(data, split="train"), out, cfg)
    return out / "weights.safetensors"


def _distill(
    args: argparse.Namespace,
    data: Path,
    teacher: Path,
    out: Path,
    jobs: int,
    threads: int | None = None,
    executor: Executor | None = None,
) -> tuple[float, float, DistillRun]:
    """(wall seconds, seconds until the first job started, the run); the jobs run on `executor`
    (default: `jobs` local processes)."""
    import archc
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.distill import DistillConfig, Event, distill

    shutil.rmtree(out, ignore_errors=True)
    spec = archc.parse(TINY)
    cfg = DistillConfig(
        iters=args.iters,
        batch=args.batch,
        crop=args.crop,
        crops_per_image=args.crops_per_image,
        jobs=jobs,
        threads=threads,
    )
    first: list[float] = []
    start = time.perf_counter()

    def on_event(e: Event) -> None:
        if e.kind == "start" and not first:
            first.append(time.perf_counter() - start)

    run = distill(
        spec,
        archc.build(spec, weights=teacher),
        teacher,
        open_dataset(data, split="train"),
        out,
        cfg,
        on_event=on_event,
        executor=executor,
    )
    return time.perf_counter() - start, first[0] if first else float("nan"), run


def _max_diff(a: Path, b: Path) -> float:
    from archc.compiler.weights import load_state

    worst = 0.0
    for file in sorted(a.glob("*.safetensors")):
        x, y = load_state(file), load_state(b / file.name)
        worst = max([worst, *(float((x[k] - y[k]).abs().max()) for k in x)])
    return worst


def _report(run: DistillRun, data: Path, teacher: Path, val_images: int) -> None:
    import archc
    from archc.compiler.weights import load_state
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.distill.report import CACHE_FILE, mean_drop_by_kind, plug_in

    t = time.perf_counter()
    base, rows = plug_in(
        archc.parse(TINY),
        load_state(teacher),
        run.bank,
        open_dataset(data, split="test"),
        val_images,
        run.out / CACHE_FILE,
    )
    print(f"\nplug-in report on {val_images} test images ({time.perf_counter() - t:.1f} s); teacher {base:.3f} dB")
    print(f"{'slot':6} {'candidate':14} {'fit NMSE':>10} {'fit/change':>10} {'PSNR':>8} {'drop dB':>8}")
    for r in rows:
        print(
            f"{r.slot:6} {r.candidate:14} {r.fit_nmse:10.2e} {r.fit_rel_change:10.3f} {r.psnr:8.3f} "
            f"{r.plug_in_drop:+8.3f}"
        )
    fits: dict[str, list[float]] = {}
    for r in rows:
        fits.setdefault(r.candidate, []).append(r.fit_rel_change)
    print("\nmean per candidate:")
    for cand, drop in mean_drop_by_kind(rows).items():
        print(f"  {cand:14} plug-in drop {drop:+.3f} dB   fit/change {np.mean(fits[cand]):.3f}")


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data")
    p.add_argument("--teacher")
    p.add_argument("--teacher-iters", type=int, default=300)
    p.add_argument("--iters", type=int, default=200, help="steps per surrogate")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--crops-per-image", type=int, default=4)
    p.add_argument("--val-images", type=int, default=8)
    p.add_argument("--no-reference", action="store_true", help="skip the --jobs 1 --threads 1 reference run")
    p.add_argument("--workdir", help="keep data, teacher and runs here (default: a temporary folder)")
    args = p.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="distill_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data = _data(args, work)
    teacher = _teacher(args, work, data)
    print(
        f"nafnet_tiny, {args.iters} steps x batch {args.batch} per surrogate, crop {args.crop}, "
        f"{args.crops_per_image} crops per image; {torch.get_num_threads()} torch threads in this process"
    )
    settings = [(1, None), (2, None)] + ([] if args.no_reference else [(1, 1)])
    walls, runs = {}, {}
    for jobs, threads in settings:
        name = f"--jobs {jobs}" + (f" --threads {threads}" if threads else "")
        out = work / f"jobs{jobs}_threads{threads or 'auto'}"
        wall, features, run = _distill(args, data, teacher, out, jobs, threads)
        walls[name], runs[name] = wall, run
        count = len(run.trained)
        print(f"{name:22} {wall:6.1f} s wall ({features:5.1f} s teacher features), {count} surrogates")
    diff = _max_diff(runs["--jobs 1"].bank.root, runs["--jobs 2"].bank.root)
    print(
        f"speed-up --jobs 2 over --jobs 1: {walls['--jobs 1'] / walls['--jobs 2']:.2f}x; "
        f"max |difference| between their surrogates {diff:.2e} (threads per job differ)"
    )
    _report(runs["--jobs 1"], data, teacher, args.val_images)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
