"""The gain curve of a training run: test PSNR gain over the blurred input against training steps.

`archc train` rewrites OUT/checkpoint.pt every minute. This script evaluates each new checkpoint it
finds (the weight average when the run keeps one, else the raw weights) on the test split, with
NAFNet's protocol, and writes OUT/gain_curve.json and OUT/gain_curve.png. With `--watch` it polls
until OUT/weights.safetensors appears (the run has ended) or `--max-hours` pass, sleeping
`--every` seconds between looks; without it, it evaluates the checkpoint there now, once.

    python benchmarks/teacher_curve.py specs/nafnet_small.arch runs/teacher_small --data runs/synth0 --watch
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from archc.api import build, parse
from archc.compiler.files import write_text_atomic
from archc.runtime.data.datasets import open_dataset
from archc.runtime.evaluation.evaluate import evaluate
from archc.runtime.training.gain_curve import plot_gain_curve


def _checkpoint_weights(path: Path) -> tuple[int, float, dict[str, torch.Tensor]]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    weights = state.get("ema") or state["model"]
    return int(state["step"]), float(state["elapsed"]), weights


def _score(spec: Any, weights: dict[str, torch.Tensor], data: str, limit: int | None) -> tuple[float, float, float]:
    model = build(spec)
    model.load_state_dict(weights)
    r = evaluate(model.eval(), open_dataset(data, split="test"), limit)
    return r.mean("psnr"), r.mean("ssim"), r.mean("input_psnr")


def _look(spec: Any, run: Path, data: str, limit: int | None, points: list[dict[str, float]]) -> bool:
    """Evaluate the checkpoint if it is newer than the last point; True when a point was added."""
    ckpt = run / "checkpoint.pt"
    if not ckpt.is_file():
        return False
    step, elapsed, weights = _checkpoint_weights(ckpt)
    if points and points[-1]["step"] >= step:
        return False
    psnr, ssim, blurred = _score(spec, weights, data, limit)
    points.append({"step": step, "elapsed_s": round(elapsed, 1), "psnr": psnr, "ssim": ssim,
                   "input_psnr": blurred, "gain_db": psnr - blurred})
    print(f"step {step:6d} ({elapsed / 60:6.1f} min): PSNR {psnr:.3f} dB, input {blurred:.3f} dB, "
          f"gain {psnr - blurred:+.3f} dB, SSIM {ssim:.4f}", flush=True)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("run", type=Path, help="the --out folder of `archc train`")
    ap.add_argument("--data", required=True)
    ap.add_argument("--limit", type=int, help="evaluate only the first N test images")
    ap.add_argument("--watch", action="store_true")
    ap.add_argument("--every", type=float, default=600.0, help="seconds between looks (with --watch)")
    ap.add_argument("--max-hours", type=float, default=6.0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec = parse(args.spec)
    out = args.run / "gain_curve.json"
    points: list[dict[str, float]] = json.loads(out.read_text())["points"] if out.is_file() else []
    deadline = time.monotonic() + args.max_hours * 3600
    while True:
        finished = (args.run / "weights.safetensors").is_file()
        if _look(spec, args.run, args.data, args.limit, points):
            write_text_atomic(out, json.dumps({"spec": args.spec, "data": args.data, "points": points}, indent=1))
            plot_gain_curve(points, args.run / "gain_curve.png")
        if not args.watch or finished or time.monotonic() > deadline:
            break
        time.sleep(args.every)


if __name__ == "__main__":
    main()
