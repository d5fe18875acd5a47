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

`--space N` adds N networks drawn uniformly from the demo's space (seeded, teacher's weights where
they fit) to the same rounds and prints, for each pair of runtimes, the rank correlation of all the
networks' latencies (Kendall's tau and Spearman's rho): whether a network that is faster in one
runtime is faster in the other, i.e. whether a front searched on one runtime's table stays a front
on another.

    python benchmarks/runtime_bench.py [--size 128] [--rounds 40] [--runtimes onnxruntime,executorch,litert]
        [--precisions fp32,int8] [--space 8] [--space-precisions fp32]

The drawn networks are converted in `--space-precisions` only (default fp32: an int8 `.pte` takes
about 90 s to convert). The line "CPU time on other threads" says, per runtime, how much of the
timed runs' CPU time went to threads other than the timing one: about 0 when each keeps to 1 thread.
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
from archc.runtime.profile.measure import other_threads_pct

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "nafnet_small.arch"
PICK = "enc1=naf(sca=off);mid=identity;dec4=identity;dec1=identity"
RUNTIMES = {"onnxruntime": "onnx", "executorch": "pte", "litert": "tflite"}
Run = Callable[[], object]


def _networks(space: int) -> dict[str, torch.nn.Module]:
    """The teacher, the pick and `space` networks drawn from the demo's space, each with the
    teacher's weights where name and shape fit and no zero parameter left (a fresh block's residual
    scales are 0, which lets a converter fold it away)."""
    teacher = archc.build(SPEC, weights="pretrained:nafnet_small").eval()
    choices = {"pick": PICK, **{f"#{i + 1} {c}": c for i, c in enumerate(_drawn(space))}}
    return {"teacher": teacher, **{name: _like_teacher(c, teacher) for name, c in choices.items()}}


def _drawn(n: int) -> list[str]:
    from archc.compiler.space import SearchSpace

    space = SearchSpace.of(archc.parse(SPEC.read_text()))
    teacher = tuple(0 for _ in space.radices)
    return [space.canonical_of(idx) for idx in space.sample(np.random.default_rng(0), n, exclude=[teacher])]


def _like_teacher(choice: str, teacher: torch.nn.Module) -> torch.nn.Module:
    from archc.runtime.distill.fit import inherit
    from archc.runtime.profile.phone_cpu import unfoldable

    net = archc.build(SPEC, choice=choice).eval()
    inherit(net, teacher.state_dict())
    return unfoldable(net)


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


def _runners(
    runtimes: list[str], precisions: list[str], size: int, space: int, space_precisions: list[str]
) -> dict[tuple[str, str, str], Run]:
    x = np.random.default_rng(1).random((1, 3, size, size), dtype=np.float32)
    out = {}
    for name, model in _networks(space).items():
        for runtime in runtimes:
            for precision in precisions if name in ("teacher", "pick") else space_precisions:
                t0 = time.perf_counter()
                fmt = RUNTIMES[runtime]
                out[(runtime, precision, name)] = (
                    _onnx_runner(model, size, precision, x)
                    if fmt == "onnx"
                    else _phone_runner(fmt, model, size, precision, x)
                )
                print(f"converted {name} for {runtime} {precision} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def _interleaved(
    runners: dict[tuple[str, str, str], Run], rounds: int
) -> tuple[dict[tuple[str, str, str], float], dict[str, float]]:
    """Median ms per runner over `rounds` interleaved rounds, and per runtime the share of CPU time
    spent on threads other than this one (about 0 when each keeps to its 1 thread)."""
    # ExecuTorch's XNNPACK delegate also runs on PyTorch's pool, and each runner's threadpool reset
    # undoes an earlier setting of it: set it once more, after the last reset
    torch.set_num_threads(1)
    samples: dict[tuple[str, str, str], list[float]] = {k: [] for k in runners}
    own: dict[str, list[float]] = {k[0]: [0.0, 0.0] for k in runners}
    for run in runners.values():
        for _ in range(3):
            run()
    for _ in range(rounds):
        for key, run in runners.items():
            t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
            run()
            samples[key].append(time.perf_counter() - t0)
            own[key[0]][0] += time.thread_time() - c0
            own[key[0]][1] += time.process_time() - p0
    medians = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
    return medians, {r: other_threads_pct(t, p) for r, (t, p) in own.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--space", type=int, default=0, help="networks drawn from the demo's space for rank correlation")
    ap.add_argument(
        "--space-precisions", default="fp32", help="precisions of the drawn networks (int8 conversions are slow)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "runtime_bench.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    runtimes = [r for r in args.runtimes.split(",") if available(RUNTIMES[r])]
    skipped = sorted(set(args.runtimes.split(",")) - set(runtimes))
    precisions, space_precisions = args.precisions.split(","), args.space_precisions.split(",")
    runners = _runners(runtimes, precisions, args.size, args.space, space_precisions)
    ms, others = _interleaved(runners, args.rounds)
    flags = ", ".join(cpu_flags())
    missing = f"; not installed: {', '.join(skipped)}" if skipped else ""
    print(
        f"\nmeasured on this machine: {args.size}x{args.size}, 1 thread, median of {args.rounds} interleaved rounds;"
        f" CPU flags: {flags}; {os.cpu_count()} cores{missing}"
    )
    print("CPU time on other threads: " + ", ".join(f"{r} {pct:.1f} %" for r, pct in others.items()))
    print("\n| runtime | precision | teacher ms | pick ms | speed-up |\n|---|---|---:|---:|---:|")
    rows = []
    for runtime in runtimes:
        for precision in precisions:
            t, p = ms[(runtime, precision, "teacher")], ms[(runtime, precision, "pick")]
            rows.append({"runtime": runtime, "precision": precision, "teacher_ms": t, "pick_ms": p, "speedup": t / p})
            print(f"| {runtime} | {precision} | {t:.2f} | {p:.2f} | {t / p:.2f}x |")
    ranks = _rank_correlations(ms, runtimes, space_precisions) if args.space else []
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
                "networks_ms": [
                    {"runtime": r, "precision": pr, "network": n, "ms": v} for (r, pr, n), v in ms.items()
                ],
                "rank_correlation": ranks,
                "other_threads_pct": others,
            },
            indent=1,
        )
        + "\n",
    )


def _rank_correlations(
    ms: dict[tuple[str, str, str], float], runtimes: list[str], precisions: list[str]
) -> list[dict[str, Any]]:
    """Kendall's tau and Spearman's rho of every network's latency, for each pair of runtimes."""
    from scipy.stats import kendalltau, spearmanr

    networks = sorted({n for _, _, n in ms})
    print(f"\nrank correlation of the latencies of {len(networks)} networks (teacher, pick, drawn), measured")
    print("| precision | runtimes | Kendall tau | Spearman rho |\n|---|---|---:|---:|")
    out = []
    for precision in precisions:
        for i, a in enumerate(runtimes):
            for b in runtimes[i + 1:]:
                xa = [ms[(a, precision, n)] for n in networks]
                xb = [ms[(b, precision, n)] for n in networks]
                tau, rho = float(kendalltau(xa, xb).statistic), float(spearmanr(xa, xb).statistic)
                out.append({"precision": precision, "runtimes": [a, b], "kendall_tau": tau, "spearman_rho": rho})
                print(f"| {precision} | {a} / {b} | {tau:.2f} | {rho:.2f} |")
    return out


if __name__ == "__main__":
    main()
