"""Training-recipe benchmark for short CPU budgets: which batch shape, learning rate, weight
average and amount of training data give the largest test gain in a fixed wall time.

    .venv/bin/python benchmarks/train_recipe.py [--minutes 8] [--variants base,lr4e-3,...] [--data DIR]

Part 1 prints training throughput (pixels per second, 2 threads) of a few batch shapes as ratios
to 8 x 64 px, the old default. Part 2 trains each variant of specs/nafnet_tiny.arch for the same
wall time, two at a time with one torch thread each (so a pair shares the machine evenly), and
prints the synthetic test split's input PSNR, output PSNR and gain. Differences under about
0.1 dB are run-to-run noise. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import archc
from archc.runtime.training.train import TrainConfig

from train_bench import stepper  # this folder is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "nafnet_tiny.arch"
SHAPES = [(8, 64), (16, 64), (16, 96), (8, 128), (4, 256)]
# name -> (training set: crops per training photograph, TrainConfig overrides)
VARIANTS: dict[str, tuple[int, dict[str, Any]]] = {
    "old-default": (8, {"batch": 8, "crop": 64, "lr": 1e-3}),
    "8-crops": (8, {"lr": 2e-3}),
    "base": (48, {"lr": 2e-3}),
    "lr1e-3": (48, {"lr": 1e-3}),
    "lr4e-3+warmup": (48, {"lr": 4e-3, "warmup": 0.05}),
    "ema": (48, {"lr": 2e-3, "ema": 0.995}),
    "128px": (48, {"lr": 2e-3, "batch": 8, "crop": 128, "ema": 0.995}),
}


def pixels_per_second(batch: int, crop: int, steps: int = 12) -> float:
    x, y = torch.rand(batch, 3, crop, crop), torch.rand(batch, 3, crop, crop)
    step = stepper(archc.build(SPEC).train(), x, y)
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch * crop * crop / (time.perf_counter() - start)


def _train_and_score(job: tuple[str, str, str, float, Path]) -> dict[str, Any]:
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.evaluation.evaluate import evaluate
    from archc.runtime.training.train import train

    name, train_dir, test_dir, minutes, out = job
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = archc.build(SPEC)
    cfg = TrainConfig(minutes=minutes, **VARIANTS[name][1])
    result = train(model, open_dataset(train_dir, split="train"), out / name, cfg)
    scores = evaluate(model.eval(), open_dataset(test_dir, split="test"))
    return {"name": name, "steps": result.steps, "input": scores.mean("input_psnr"), "psnr": scores.mean("psnr")}


def _sets(args: argparse.Namespace, work: Path, crops: set[int]) -> dict[int, Path]:
    from archc.runtime.data.synth import synthesize

    if args.data:
        return dict.fromkeys(crops, Path(args.data))
    sets = {}
    for n in sorted(crops):
        sets[n] = work / f"synth{n}"
        synthesize(sets[n], crops_per_image=n)
    return sets


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=8.0, help="Training wall time per variant.")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"Comma-separated, of: {', '.join(VARIANTS)}.")
    p.add_argument("--data", help="Train and test on this set instead of synthetic ones built here.")
    p.add_argument("--skip-throughput", action="store_true")
    args = p.parse_args()
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s): {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    if not args.skip_throughput:
        torch.set_num_threads(2)
        base = pixels_per_second(*SHAPES[0])
        print("batch x crop   Mpx/s   ratio to 8 x 64")
        for batch, crop in SHAPES:
            rate = pixels_per_second(batch, crop)
            print(f"{batch:5d} x {crop:<4d} {rate / 1e6:7.2f}   {rate / base:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sets = _sets(args, work, {VARIANTS[n][0] for n in names})
        test_dir = sets[min(sets)]  # every set built here has the same test split
        jobs = [(n, str(sets[VARIANTS[n][0]]), str(test_dir), args.minutes, work / "runs") for n in names]
        print(f"\n{len(jobs)} variants x {args.minutes:g} min, two at a time, 1 torch thread each", flush=True)
        with mp.get_context("spawn").Pool(2) as pool:
            rows = pool.map(_train_and_score, jobs, chunksize=1)
    print(f"{'variant':16s} {'steps':>6s} {'input dB':>9s} {'PSNR dB':>8s} {'gain dB':>8s}")
    for r in rows:
        print(f"{r['name']:16s} {r['steps']:6d} {r['input']:9.3f} {r['psnr']:8.3f} {r['psnr'] - r['input']:+8.3f}")


if __name__ == "__main__":
    main()
