"""Accelerator check and benchmark: training-step throughput of a spec in float32, bf16 and (on a
GPU) fp16, side by side on one accelerator; tiled against whole-frame restoration; a real
out-of-memory error turned into one message; the memory estimate against the measured peak.

    .venv/bin/python benchmarks/accelerator_bench.py [--spec specs/nafnet_gopro.arch]
        [--accelerator auto] [--batch 8] [--crop 256] [--steps 10] [--frame 1280 720]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import archc
from archc.compiler.memory import for_training, inference_activations
from archc.runtime.accel.accelerator import describe, resolve, synchronize
from archc.runtime.accel.memory import MemoryLimitError, free_memory, human_bytes, out_of_memory_as_error
from archc.runtime.restore.deblur import restore_image
from archc.runtime.training.amp import Amp
from archc.runtime.training.train import psnr_loss

ROOT = Path(__file__).resolve().parents[1]


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device: torch.device) -> int | None:
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None


def step_rate(
    spec: Path, device: torch.device, mode: str, batch: int, crop: int, steps: int
) -> tuple[float, int | None]:
    """Training steps per second with `mode`, and the peak memory of a step (CUDA only)."""
    torch.manual_seed(0)
    model = archc.build(spec).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    amp = Amp(mode, device)
    blur, sharp = torch.rand(batch, 3, crop, crop, device=device), torch.rand(batch, 3, crop, crop, device=device)

    def one() -> None:
        with amp.autocast():
            pred = model(blur)
        loss = psnr_loss(pred.float(), sharp)
        opt.zero_grad(set_to_none=True)
        amp.step(loss, opt)

    one()
    synchronize(device)
    _peak_reset(device)
    start = time.perf_counter()
    for _ in range(steps):
        one()
    synchronize(device)
    return steps / (time.perf_counter() - start), _peak(device)


def tiling(spec: Path, device: torch.device, frame: tuple[int, int]) -> None:
    model = archc.build(spec).to(device).eval()
    image = torch.rand(3, frame[1], frame[0])
    whole = restore_image(model, image)
    tiled = restore_image(model, image, tile=512, overlap=32)
    print(f"tiled (512 px, overlap 32) vs whole {frame[0]}x{frame[1]}: max |diff| {(whole - tiled).abs().max():.2e}")


def provoke_oom(device: torch.device) -> None:
    try:
        with out_of_memory_as_error("a deliberate allocation", device, "none: this is a test"):
            torch.empty(1 << 50, dtype=torch.uint8, device=device)
    except MemoryLimitError as exc:
        print(f"out-of-memory as one message: {exc.diagnostics[0].message[:120]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "nafnet_gopro.arch")
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--frame", type=int, nargs=2, default=(1280, 720))
    args = parser.parse_args()
    device = resolve(args.accelerator)
    print(describe(device), "free:", free_memory(device))
    g = archc.compile_ir(args.spec)
    params = sum(p.numel() for p in archc.build(args.spec).parameters())
    est = for_training(params, g, args.crop, args.batch)
    print(
        f"training estimate {human_bytes(est.total)}; inference estimate at {args.frame[0]}x{args.frame[1]} "
        f"{human_bytes(inference_activations(g, (args.frame[1], args.frame[0])))}"
    )
    modes = ("off", "bf16", "fp16") if device.type != "cpu" else ("off", "bf16")
    for mode in modes:
        rate, peak = step_rate(args.spec, device, mode, args.batch, args.crop, args.steps)
        measured = f", peak {human_bytes(peak)}" if peak is not None else ""
        print(f"amp {mode}: {rate:.2f} steps/s ({rate * args.batch:.1f} img/s){measured}")
    tiling(args.spec, device, tuple(args.frame))  # type: ignore[arg-type]
    provoke_oom(device)


if __name__ == "__main__":
    main()
