"""The paper-shaped run at a GoPro-like scale, stage by stage: `nafnet_gopro.arch` (NAFNet-width32,
8 slots x 7 candidates, `s24`), on synthetic 1280x720 frames.

    .venv/bin/python benchmarks/scale_bench.py [--accelerator auto] [--feature-frames 4]
        [--score-frames 2] [--distill-iters 20] [--jobs-sample 7] [--workdir DIR] [--json OUT]

Each stage runs for real on a sample, through archc's own code, and its per-unit cost is projected
linearly to the GoPro-like scale (420 training frames for the teacher-feature cache, i.e. 20 % of
GoPro's 2,103; 100 test frames to score a network) and to full GoPro (scoring on all 1,111 test
frames), with the search's default budget of 200 networks:

- teacher features: `distill`'s feature pass over `--feature-frames` frames (4 crops of 64 px each);
- surrogates: `--jobs-sample` of the 56 (slot, candidate) jobs for `--distill-iters` steps each,
  projected to all 56 jobs x 400 steps (the default), one process (divide by the workers you have);
- latency: the whole `s24` block table (modelled; cheap, not projected);
- scoring: one assembled network scored on `--score-frames` full 1280x720 frames, projected per
  network to 100 and 1,111 frames, x 200 networks.

The weights are untrained (timing does not depend on them). Prints a table and the machine; writes
JSON with `--json`. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from cluster_bench import cpu_flags
from PIL import Image

import archc
from archc.compiler.space import SearchSpace
from archc.compiler.weights import save_safetensors
from archc.runtime.accel.accelerator import describe, resolve
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill import DistillConfig, Event, distill, plan_jobs
from archc.runtime.profile.run import Request, execute
from archc.runtime.search.objectives import QualityEvaluator

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "nafnet_gopro.arch"
H, W = 720, 1280
SCALE = {"feature_frames": 420, "score_frames": 100, "gopro_test_frames": 1111, "networks": 200, "iters": 400}


def write_frames(root: Path, split: str, n: int, seed: int) -> None:
    """`n` smooth random 1280x720 frames and a horizontally smeared copy, in GoPro's layout."""
    rng = np.random.default_rng(seed)
    for kind in ("blur", "sharp"):
        (root / split / "SEQ" / kind).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        coarse = (rng.random((H // 16, W // 16, 3)) * 255).astype(np.uint8)
        sharp = np.asarray(Image.fromarray(coarse).resize((W, H), Image.BICUBIC))
        blur = sum(np.roll(sharp.astype(np.float32), k, axis=1) for k in range(9)) / 9
        Image.fromarray(sharp).save(root / split / "SEQ" / "sharp" / f"{i:06d}.png")
        Image.fromarray(blur.astype(np.uint8)).save(root / split / "SEQ" / "blur" / f"{i:06d}.png")


def _features_and_jobs(args: argparse.Namespace, work: Path, teacher: Path, accelerator: str) -> dict[str, float]:
    spec = archc.parse(SPEC)
    jobs = plan_jobs(spec, None, "slot")
    rng = np.random.default_rng(0)
    sample = [jobs[i].slot for i in sorted(rng.choice(len(jobs), size=min(args.jobs_sample, len(jobs)), replace=False))]
    cfg = DistillConfig(fraction=1.0, iters=args.distill_iters, accelerator=accelerator, threads=args.threads)
    marks: dict[str, float] = {}

    def on_event(e: Event) -> None:
        if e.kind == "features":
            marks["features"] = time.perf_counter()  # the last batch of the teacher's pass
        if e.kind == "start" and "jobs" not in marks:
            marks["jobs"] = time.perf_counter()

    model = archc.build(spec, weights=teacher)
    pairs = open_dataset(work / "data", split="train")
    t0 = time.perf_counter()
    run = distill(spec, model, teacher, pairs, work / "distill", cfg, sorted(set(sample)), on_event)
    end = time.perf_counter()
    return {
        "features_s": marks["features"] - t0,
        "jobs_s": end - marks["jobs"],
        "jobs": float(len(run.trained)),
        "all_jobs": float(len(jobs)),
    }


def _score(args: argparse.Namespace, work: Path, teacher: Path, accelerator: str) -> float:
    spec = archc.parse(SPEC)
    space = SearchSpace.of(spec)
    quality = QualityEvaluator(
        spec,
        space,
        teacher,
        work / "distill" / "surrogates",
        open_dataset(work / "data", split="test"),
        images=args.score_frames,
        crop=None,
        device=accelerator,
    )
    t0 = time.perf_counter()
    quality((0,) * len(space.slots))
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accelerator", default="auto")
    p.add_argument("--feature-frames", type=int, default=4)
    p.add_argument("--score-frames", type=int, default=2)
    p.add_argument("--distill-iters", type=int, default=20)
    p.add_argument("--jobs-sample", type=int, default=7)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: every core)")
    p.add_argument("--workdir")
    p.add_argument("--json")
    args = p.parse_args(argv)
    device = resolve(args.accelerator)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="scale_bench_"))
    shutil.rmtree(work / "distill", ignore_errors=True)
    write_frames(work / "data", "train", args.feature_frames, 0)
    write_frames(work / "data", "test", args.score_frames, 1)
    teacher = work / "teacher.safetensors"
    torch.manual_seed(0)
    save_safetensors(archc.build(SPEC), teacher)
    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "flags": cpu_flags(),
        "torch_threads": torch.get_num_threads(),
        **describe(device),
    }
    print(f"machine: {machine}")
    t0 = time.perf_counter()
    execute(Request(archc.parse(SPEC), "s24"))
    profile_s = time.perf_counter() - t0
    d = _features_and_jobs(args, work, teacher, str(device))
    score_s = _score(args, work, teacher, str(device))
    rows = _rows(args, d, profile_s, score_s)
    _print(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "args": vars(args), "stages": rows}, indent=1))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


def _rows(args: argparse.Namespace, d: dict[str, float], profile_s: float, score_s: float) -> list[dict[str, Any]]:
    per_frame_features = d["features_s"] / args.feature_frames
    per_step = d["jobs_s"] / (d["jobs"] * args.distill_iters)
    per_frame_score = score_s / args.score_frames
    n = SCALE["networks"]
    return [
        {
            "stage": "teacher features",
            "sample": f"{args.feature_frames} frames",
            "sample_s": d["features_s"],
            "unit": "s/frame",
            "per_unit": per_frame_features,
            "gopro_like_s": per_frame_features * SCALE["feature_frames"],
            "full_gopro_s": per_frame_features * 526,
        },
        {
            "stage": "surrogates (1 process)",
            "sample": f"{int(d['jobs'])} jobs x {args.distill_iters} steps",
            "sample_s": d["jobs_s"],
            "unit": "s/step",
            "per_unit": per_step,
            "gopro_like_s": per_step * d["all_jobs"] * SCALE["iters"],
            "full_gopro_s": per_step * d["all_jobs"] * 400,
        },
        {
            "stage": "s24 block table",
            "sample": "whole table",
            "sample_s": profile_s,
            "unit": "s",
            "per_unit": profile_s,
            "gopro_like_s": profile_s,
            "full_gopro_s": profile_s,
        },
        {
            "stage": f"scoring {n} networks",
            "sample": f"1 network x {args.score_frames} frames",
            "sample_s": score_s,
            "unit": "s/frame",
            "per_unit": per_frame_score,
            "gopro_like_s": per_frame_score * SCALE["score_frames"] * n,
            "full_gopro_s": per_frame_score * SCALE["gopro_test_frames"] * n,
        },
    ]


def _print(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'stage':26} {'sample':24} {'sample s':>9} {'per unit':>14} {'GoPro-like':>12} {'full GoPro':>12}")
    for r in rows:
        print(
            f"{r['stage']:26} {r['sample']:24} {r['sample_s']:9.1f} {r['per_unit']:9.3f} {r['unit']:<5}"
            f" {_hours(r['gopro_like_s']):>11} {_hours(r['full_gopro_s']):>11}"
        )
    total = sum(r["gopro_like_s"] for r in rows), sum(r["full_gopro_s"] for r in rows)
    print(f"{'total':26} {'':24} {'':9} {'':14} {_hours(total[0]):>11} {_hours(total[1]):>11}")
    print(
        "GoPro-like: 420 feature frames, 100 scoring frames; full GoPro: 526 feature frames (25 %), 1,111 scoring"
        " frames; 56 surrogates x 400 steps; 200 networks scored"
    )


def _hours(s: float) -> str:
    return f"{s / 3600:.2f} h" if s >= 3600 else f"{s / 60:.1f} min" if s >= 60 else f"{s:.1f} s"


if __name__ == "__main__":
    main()
