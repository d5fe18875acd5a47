"""Training benchmark: step throughput of spec-built models against the independent reference NAFNet
(tests/reference_nafnet.py), interleaved in one process, and the share of a step spent waiting for data.

    .venv/bin/python benchmarks/train_bench.py [--data DIR] [--steps 6] [--threads 2]

Goals: throughput ratio (spec-built / reference) >= 0.95; data wait < 10 % of step time.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import archc  # noqa: E402
from archc.runtime.training.train import TrainConfig, batch_at, psnr_loss  # noqa: E402

from reference_nafnet import RefNAFNet  # noqa: E402


def _reference(spec: archc.dsl.spec.Spec) -> RefNAFNet:  # type: ignore[name-defined]
    enc = [s.repeat for s in spec.by_role("encoder")]
    dec = [s.repeat for s in spec.by_role("decoder")]
    return RefNAFNet(spec.width, enc, spec.by_role("middle")[0].repeat, dec)


def stepper(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor):  # type: ignore[no-untyped-def]
    """One AdamW training step of `model` on the fixed batch (x, y), as a function."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-3, betas=(0.9, 0.9))

    def step() -> None:
        loss = psnr_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def throughput(spec_path: Path, batch: int, crop: int, steps: int) -> tuple[float, float]:
    spec = archc.parse(spec_path)
    built = archc.build(spec).train()
    ref = _reference(spec).train()
    ref.load_state_dict(built.state_dict(), strict=True)
    x, y = torch.rand(batch, 3, crop, crop), torch.rand(batch, 3, crop, crop)
    fns = {"built": stepper(built, x, y), "ref": stepper(ref, x, y)}
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()
    for _ in range(steps):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return statistics.median(times["built"]), statistics.median(times["ref"])


def data_wait(data: Path, batch: int, crop: int, steps: int) -> tuple[float, float]:
    from archc.runtime.data.crops import TrainCrops
    from archc.runtime.data.datasets import open_dataset

    pairs = open_dataset(data, split="train")
    crops = TrainCrops(pairs, crop, length=1 << 30)
    model = archc.build(ROOT / "specs" / "nafnet_tiny.arch").train()
    opt = torch.optim.AdamW(model.parameters())
    waits, totals = [], []
    for step in range(steps):
        t0 = time.perf_counter()
        blur, sharp = batch_at(crops, step, batch, 0)
        t1 = time.perf_counter()
        loss = psnr_loss(model(blur), sharp)
        opt.zero_grad()
        loss.backward()
        opt.step()
        waits.append(t1 - t0)
        totals.append(time.perf_counter() - t0)
    return sum(waits[1:]), sum(totals[1:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", help="a training set (default: a small synthetic one made now)")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = TrainConfig(iters=1)
    print(f"threads {args.threads}; default recipe crop {cfg.crop}, batch {cfg.batch}")
    print(f"{'model':<22}{'batch x crop':>14}{'spec-built':>12}{'reference':>12}{'ratio':>8}")
    for name, batch, crop in (("nafnet_tiny.arch", cfg.batch, cfg.crop), ("nafnet_gopro.arch", 2, 64)):
        b, r = throughput(ROOT / "specs" / name, batch, crop, args.steps)
        print(f"{name:<22}{f'{batch} x {crop}':>14}{b * 1e3:>10.0f}ms{r * 1e3:>10.0f}ms{r / b:>8.3f}")
    print("(ratio = reference step time / spec-built step time; goal >= 0.95)")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else None
        if data is None:
            from archc.runtime.data.synth import synthesize

            data = Path(tmp) / "synth"
            synthesize(data, images=4, seed=0)
        wait, total = data_wait(data, cfg.batch, cfg.crop, max(args.steps * 4, 10))
        print(f"\ndata wait: {wait:.3f} s of {total:.3f} s training = {100 * wait / total:.1f} % (goal < 10 %)")


if __name__ == "__main__":
    main()
