"""The teacher and a restructured pick of the demo's space in three runtimes, timed side by side.

Runtimes: ONNX Runtime (the `.onnx`), ExecuTorch with XNNPACK (the `.pte`) and LiteRT's interpreter
with XNNPACK (the `.tflite`); precisions fp32 and int8 (ONNX Runtime: the static QDQ graph; the
phone runtimes: their own PT2E quantizer), every file converted at the timed size. Networks: the
teacher (`pretrained:nafnet_small` with specs/nafnet_small.arch) and the demo pick
`enc1=naf(sca=off);mid=identity;dec4=identity;dec1=identity`, with the teacher's weights where they
fit and no zero residual scale (which a converter could fold away). int8 ranges are observed on
random images: they change the numbers, not the speed.

Every (runtime, precision, network) file is loaded once; then rounds run each of them once, in
turn (interleaved, so load on the machine hits them all alike), 1 thread, and the median of the
rounds is reported with the pick's speed-up over the teacher in the same runtime and precision.

    python benchmarks/runtime_bench.py [--size 128] [--rounds 40] [--runtimes onnxruntime,executorch,litert]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import archc
from archc.compiler.files import write_text_atomic
from archc.compiler.mobile import available
from archc.compiler.quantize import Calibration
from archc.runtime.accel.accelerator import cpu_flags

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "nafnet_small.arch"
PICK = "enc1=naf(sca=off);mid=identity;dec4=identity;dec1=identity"
RUNTIMES = {"onnxruntime": "onnx", "executorch": "pte", "litert": "tflite"}
Run = Callable[[], object]


def _networks() -> dict[str, torch.nn.Module]:
    """The teacher, and the pick with the teacher's weights where name and shape fit and no zero
    parameter left (a fresh block's residual scales are 0, which lets a converter fold it away)."""
    from archc.runtime.distill.fit import inherit

    teacher = archc.build(SPEC, weights="pretrained:nafnet_small").eval()
    pick = archc.build(SPEC, choice=PICK).eval()
    inherit(pick, teacher.state_dict())
    with torch.no_grad():
        for p in pick.parameters():
            if not p.any():
                p.fill_(0.1)
    return {"teacher": teacher, "pick": pick}


def _calibration(size: int) -> Calibration:
    images = np.random.default_rng(0).random((4, 1, 3, size, size), dtype=np.float32)
    return Calibration(tuple(images), "minmax", "random images (latency only)")


def _onnx_runner(model: torch.nn.Module, size: int, precision: str, x: np.ndarray) -> Run:
    from archc.compiler.onnx_export import to_onnx_model
    from archc.compiler.passes import passes_for
    from archc.runtime.profile.ort import session
    from archc.runtime.profile.workload import freeze_shape

    calib = _calibration(size) if precision == "int8" else None
    proto, _ = to_onnx_model(model, passes=passes_for(2), precision=precision, calibration=calib)
    sess = session(freeze_shape(proto, x.shape).SerializeToString(), 1)
    return lambda: sess.run(None, {"image": x})


def _phone_runner(fmt: str, model: torch.nn.Module, size: int, precision: str, x: np.ndarray) -> Run:
    from archc.compiler.pte_export import PteRunner, to_pte
    from archc.compiler.tflite_export import TfliteRunner, to_tflite

    calib = _calibration(size) if precision == "int8" else None
    convert = to_pte if fmt == "pte" else to_tflite
    data, _ = convert(model, 3, (size, size), dynamic=False, precision=precision, calibration=calib)
    if fmt == "pte":
        from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

        _unsafe_reset_threadpool(1)
        runner: Any = PteRunner(data)
    else:
        runner = TfliteRunner(data, threads=1)
    return lambda: runner.run(x)


def _runners(runtimes: list[str], precisions: list[str], size: int) -> dict[tuple[str, str, str], Run]:
    x = np.random.default_rng(1).random((1, 3, size, size), dtype=np.float32)
    out = {}
    for name, model in _networks().items():
        for runtime in runtimes:
            for precision in precisions:
                t0 = time.perf_counter()
                fmt = RUNTIMES[runtime]
                out[(runtime, precision, name)] = (
                    _onnx_runner(model, size, precision, x)
                    if fmt == "onnx"
                    else _phone_runner(fmt, model, size, precision, x)
                )
                print(f"converted {name} for {runtime} {precision} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def _interleaved(runners: dict[tuple[str, str, str], Run], rounds: int) -> dict[tuple[str, str, str], float]:
    samples: dict[tuple[str, str, str], list[float]] = {k: [] for k in runners}
    for run in runners.values():
        for _ in range(3):
            run()
    for _ in range(rounds):
        for key, run in runners.items():
            t0 = time.perf_counter()
            run()
            samples[key].append(time.perf_counter() - t0)
    return {k: statistics.median(v) * 1e3 for k, v in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "runtime_bench.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    runtimes = [r for r in args.runtimes.split(",") if available(RUNTIMES[r])]
    skipped = sorted(set(args.runtimes.split(",")) - set(runtimes))
    ms = _interleaved(_runners(runtimes, args.precisions.split(","), args.size), args.rounds)
    flags = ", ".join(cpu_flags())
    missing = f"; not installed: {', '.join(skipped)}" if skipped else ""
    print(
        f"\nmeasured on this machine: {args.size}x{args.size}, 1 thread, median of {args.rounds} interleaved rounds;"
        f" CPU flags: {flags}; {os.cpu_count()} cores{missing}"
    )
    print("\n| runtime | precision | teacher ms | pick ms | speed-up |\n|---|---|---:|---:|---:|")
    rows = []
    for runtime in runtimes:
        for precision in args.precisions.split(","):
            t, p = ms[(runtime, precision, "teacher")], ms[(runtime, precision, "pick")]
            rows.append({"runtime": runtime, "precision": precision, "teacher_ms": t, "pick_ms": p, "speedup": t / p})
            print(f"| {runtime} | {precision} | {t:.2f} | {p:.2f} | {t / p:.2f}x |")
    write_text_atomic(
        args.out,
        json.dumps(
            {
                "cpu_flags": flags,
                "size": args.size,
                "rounds": args.rounds,
                "pick": PICK,
                "label": "measured",
                "rows": rows,
            },
            indent=1,
        )
        + "\n",
    )


if __name__ == "__main__":
    main()
