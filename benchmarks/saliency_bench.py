"""Saliency benchmark: the cost of each block-saliency metric relative to one forward + backward
pass, and the total for all of them, on NAFNet-width32 with random weights (non-zero residual
scales, so no gradient is trivially zero).

    .venv/bin/python benchmarks/saliency_bench.py [--spec specs/nafnet_gopro.arch] [--size 256]
        [--batches 4] [--batch 2] [--threads 2] [--metrics grad_norm,snip,...] [--device cpu]

Smaller settings for a quick look: `--spec specs/nafnet_tiny.arch --size 64`.
Each metric is timed alone (the first-order ones then each pay for their own gradient pass), then
all of them together as `archc saliency` runs them (grad_norm, snip, fisher and taylor share one
pass per batch). Each ratio divides by a forward + backward timed just before it, because the
speed of a shared CPU drifts. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

import archc
from archc.dsl.check import SALIENCY_METRICS
from archc.runtime.saliency.measures import run_measures
from archc.runtime.saliency.probe import Probe
from archc.runtime.saliency.score import compute_saliency
from archc.runtime.saliency.units import block_units
from archc.runtime.training.train import psnr_loss

ROOT = Path(__file__).resolve().parents[1]


def _model(spec: archc.dsl.spec.Spec, seed: int = 0) -> torch.nn.Module:  # type: ignore[name-defined]
    torch.manual_seed(seed)
    model = archc.build(spec)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("beta", "gamma")):
                p.normal_(0.0, 0.1)
    return model


def _batches(count: int, batch: int, size: int, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    return [
        (torch.rand(batch, 3, size, size, generator=gen), torch.rand(batch, 3, size, size, generator=gen))
        for _ in range(count)
    ]


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def forward_backward(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int = 2) -> float:
    """Median seconds of one eval-mode forward + backward with the PSNR loss (after a warm-up)."""

    def step() -> None:
        model.zero_grad(set_to_none=True)
        psnr_loss(model(x), y).backward()

    step()
    return statistics.median(_timed(step) for _ in range(repeats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", type=Path, default=ROOT / "specs" / "nafnet_gopro.arch")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--metrics", default=",".join(SALIENCY_METRICS))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--skip-alone", action="store_true", help="Time only the combined run.")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    metrics = [m for m in args.metrics.split(",") if m]
    spec = archc.parse(args.spec)
    model = _model(spec).to(args.device).eval()
    data = _batches(args.batches, args.batch, args.size)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{spec.name}: {params:,} params; {args.batches} batches of {args.batch} x 3 x {args.size} x {args.size}; "
        f"{args.threads} threads; {args.device}; torch {torch.__version__}"
    )
    x, y = (t.to(args.device) for t in data[0])
    paths = tuple(p for u in block_units(spec, model) for p in u.modules)
    # On a shared CPU the speed drifts: every ratio uses a forward + backward timed just before it.
    print(f"{'metric':<10} {'seconds':>9} {'per batch':>10} {'fwd+bwd s':>10} {'x fwd+bwd':>10}")
    for m in [] if args.skip_alone else metrics:
        fb = forward_backward(model, x, y)
        probe = Probe.of(model, data, blocks=paths, device=args.device)
        secs = _timed(partial(run_measures, probe, [m]))
        per = secs if m == "synflow" else secs / args.batches  # synflow: one all-ones sample, no batches
        label = " (1 pass, float64)" if m == "synflow" else ""
        print(f"{m:<10} {secs:9.2f} {per:10.2f} {fb:10.2f} {per / fb:10.2f}{label}")
    fb = forward_backward(model, x, y)
    total = _timed(lambda: compute_saliency(spec, model, data, metrics=metrics, device=args.device))
    print(
        f"all of {', '.join(metrics)} (shared first-order pass): {total:.1f} s = "
        f"{total / fb:.1f} x one forward + backward ({fb:.2f} s)"
    )


if __name__ == "__main__":
    main()
