"""Precision benchmark on the tiny space: what FP16, W8A16 and W8A8 cost in quality, what INT8 buys
in ONNX Runtime on this CPU, and the best mixed-precision network on the modelled S24 NPU.

    .venv/bin/python benchmarks/precision_bench.py --teacher W.safetensors --data SYNTH [--bank RUN/surrogates]

Prints figures; asserts nothing. Goal: on modelled s24 a mixed-precision network within
0.2 dB of the all-FP16 baseline's PSNR and >= 1.4x faster than it.

1. Quality per precision, per network (the teacher; with `--bank`, also every slot dsconv and every
   slot naf(sca=off) from the surrogate bank): the exported ONNX of each precision (`archc compile
   --precision`, W8A8 / W8A16 calibrated on 16 training crops, minmax) run by ONNX Runtime on the test
   split; PSNR drop against the same network's FP32 export.
2. ONNX Runtime speed, 1 thread, runs of FP32 / W8A8 / W8A16 / FP16 graphs of the teacher interleaved
   in one process, median ms; the processor and its integer dot-product flags are printed.
3. Modelled s24 (every latency is a cost-model estimate): the precision-only space (the teacher's
   blocks, each slot fp16 | w8a8 | w8a16: 81 networks) enumerated, and with `--bank` the whole
   block-and-precision space searched by BoTorch; quality by fake quantization in torch
   (runtime/network/quantsim.py), as the search scores it. The pick is the fastest network whose PSNR is
   at most 0.2 dB below the all-FP16 baseline's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import archc
from archc.compiler.onnx_export import to_onnx_model
from archc.compiler.passes import passes_for
from archc.compiler.space import SearchSpace
from archc.runtime.accel.accelerator import int8_instructions
from archc.runtime.data.calibration import calibration, calibration_images
from archc.runtime.data.datasets import open_dataset
from archc.runtime.evaluation.evaluate import evaluate
from archc.runtime.network.onnx_network import OnnxNetwork
from archc.runtime.profile.precision import MixedRowsLatency, mixed_latency, precision_tables
from archc.runtime.search.bo import BoTorchStrategy
from archc.runtime.search.engine import run_search
from archc.runtime.search.journal import Journal
from archc.runtime.search.objectives import NetworkObjectives, QualityEvaluator

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "nafnet_tiny_precision.arch"
PRECISIONS = ("fp32", "fp16", "w8a16", "w8a8")
MAX_DROP = 0.2


def quality_per_precision(spec: Any, teacher: str, bank: str | None, data: str, images: int) -> None:
    calib = calibration(data, "minmax", images=16, crop=128)
    pairs = open_dataset(data, split="test")
    networks: dict[str, Any] = {"teacher (naf)": None}
    if bank:
        networks |= {"all dsconv": "dsconv", "all naf(sca=off)": "naf(sca=off)"}
    print(f"\n1. PSNR drop against FP32 (ONNX Runtime, {min(images, len(pairs))} test images, whole frames)")
    print(f"   {'network':<20}" + "".join(f"{p:>10}" for p in PRECISIONS[1:]) + "   (fp32 PSNR dB)")
    for name, block in networks.items():
        choice = {s.name: block for s in spec.search.slots} if block else None
        model = archc.build(spec, choice, teacher, surrogates=bank if block else None).eval()
        psnr = {}
        for p in PRECISIONS:
            proto, _ = to_onnx_model(model, passes=passes_for(2), precision=p, calibration=calib)
            psnr[p] = evaluate(OnnxNetwork(proto, model.padder_size), pairs, images).mean("psnr")  # type: ignore[arg-type]
        drops = "".join(f"{psnr['fp32'] - psnr[p]:>10.4f}" for p in PRECISIONS[1:])
        print(f"   {name:<20}{drops}   ({psnr['fp32']:.3f})")


def cpu_speed(spec: Any, teacher: str, data: str, size: int, repeats: int) -> None:
    flags = int8_instructions()
    print(f"\n2. ONNX Runtime on this CPU: {flags['cpu']}; int8 flags: {', '.join(flags['int8_flags']) or 'none'}"
          f" (VNNI: {'yes' if flags['vnni'] else 'no'}); 1 thread, {repeats} interleaved rounds, 1x3x{size}x{size}")
    model = archc.build(spec, None, teacher).eval()
    calib = calibration(data, "minmax", images=8, crop=128)
    sessions = {p: OnnxNetwork(to_onnx_model(model, passes=passes_for(2), precision=p, calibration=calib)[0],
                               threads=1) for p in PRECISIONS}
    x = torch.rand(1, 3, size, size)
    times: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for p in PRECISIONS:
        sessions[p](x)  # warm-up
    for _ in range(repeats):
        for p in PRECISIONS:
            t0 = time.perf_counter()
            sessions[p](x)
            times[p].append((time.perf_counter() - t0) * 1e3)
    med = {p: statistics.median(v) for p, v in times.items()}
    for p in PRECISIONS:
        print(f"   {p:<6} {med[p]:8.2f} ms   ratio to fp32 {med[p] / med['fp32']:.3f}")
    print(f"   int8 (w8a8) / fp32 time ratio: {med['w8a8'] / med['fp32']:.3f} "
          f"(speed-up {med['fp32'] / med['w8a8']:.2f}x)")


def _pick(history: Sequence[Any], base_psnr: float) -> Any:
    ok = [e for e in history if e.objectives["psnr"] >= base_psnr - MAX_DROP]
    return min(ok, key=lambda e: e.latency_ms)


def _report_pick(label: str, history: Sequence[Any]) -> None:
    base = next(e for e in history if not any(e.indices))
    best = _pick(history, base.objectives["psnr"])
    speed = base.latency_ms / best.latency_ms
    print(f"   {label}: {len(history)} networks; all-FP16 baseline {base.latency_ms:.2f} ms, "
          f"PSNR {base.objectives['psnr']:.3f} dB")
    print(f"     best within {MAX_DROP} dB: {best.canonical}")
    gap = best.objectives["psnr"] - base.objectives["psnr"]
    print(f"     {best.latency_ms:.2f} ms = {speed:.2f}x faster, PSNR {gap:+.3f} dB vs the baseline (goal >= 1.4x)")


def s24_mixed(spec: Any, teacher: str, bank: str | None, data: str, images: int, crop: int, budget: int,
              out: Path) -> None:
    space = SearchSpace.of(spec)
    tables = precision_tables(spec, "s24", ["w8a8", "w8a16"], None, out / "profile")
    rows = MixedRowsLatency(*mixed_latency(space, tables))
    h, w = tables["fp16"].size
    print(f"\n3. Modelled s24 at {w}x{h} (cost-model estimates, w8a16 assumed from the W8A8 fit); quality by fake "
          f"quantization on {images} test crops of {crop} px")
    print(f"   whole network: fp16 {tables['fp16'].baseline_ms:.2f} ms, w8a16 {tables['w8a16'].baseline_ms:.2f} ms, "
          f"w8a8 {tables['w8a8'].baseline_ms:.2f} ms (modelled)")
    calib = torch.from_numpy(np.concatenate(calibration_images(data, 16, crop)))
    quality = QualityEvaluator(spec, space, teacher, bank, open_dataset(data, split="test"), images, crop,
                               calibration=calib)
    objectives = NetworkObjectives(quality, rows.one)
    m = len(space.slots)
    precision_only = [(0,) * m + tuple(int(c) for c in np.base_repr(i, 3).zfill(m)) for i in range(3**m)]
    history = [(idx, objectives(idx)) for idx in precision_only]
    _report_pick("precision only (teacher's blocks), enumerated", [_Ev(space, i, o) for i, o in history])
    if bank:
        strat = BoTorchStrategy(space, 0, latency=rows, n_init=16)
        found = run_search(space, objectives, strat, budget, Journal(out / "journal.jsonl"), batch=4)
        _report_pick(f"blocks and precisions, BoTorch (budget {budget})", found)


class _Ev:
    def __init__(self, space: SearchSpace, idx: tuple[int, ...], objectives: dict[str, float]) -> None:
        self.indices, self.objectives = idx, objectives
        self.latency_ms = objectives["latency_ms"]
        self.canonical = space.canonical_of(idx)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default=str(SPEC))
    p.add_argument("--teacher", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--bank", help="surrogate bank (archc distill RUN/surrogates) for block mixes")
    p.add_argument("--images", type=int, default=12)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--budget", type=int, default=60)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    spec = archc.parse(args.spec)
    print(f"precision_bench: {spec.name} ({args.spec}), teacher {args.teacher}, data {args.data}")
    quality_per_precision(spec, args.teacher, args.bank, args.data, args.images)
    cpu_speed(spec, args.teacher, args.data, args.size, args.repeats)
    with tempfile.TemporaryDirectory(prefix="precision-bench-") as tmp:
        s24_mixed(spec, args.teacher, args.bank, args.data, args.images, args.crop, args.budget, Path(tmp))


if __name__ == "__main__":
    main()
