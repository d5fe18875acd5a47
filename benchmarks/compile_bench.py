"""Compiler benchmark: front-end and export times, and the spec-built NAFNet's speed against an
independent hand-written NAFNet (tests/reference_nafnet.py), interleaved in one process, 1 thread.

    .venv/bin/python benchmarks/compile_bench.py [--spec specs/nafnet_gopro.arch] [--size 256] [--repeats 5]

Prints figures; asserts nothing. Goals: speed ratio >= 0.97 (torch and ONNX Runtime),
parse+check+lower < 1 s, ONNX export+simplify < 30 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import onnxruntime as ort
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import archc  # noqa: E402
from archc.api import parse_file  # noqa: E402
from archc.compiler.ir import to_ir  # noqa: E402
from archc.compiler.lower import lower  # noqa: E402
from archc.compiler.onnx_export import export_onnx  # noqa: E402
from archc.dsl.check import check  # noqa: E402
from archc.runtime.blocks import all_blocks  # noqa: E402

from reference_nafnet import RefNAFNet  # noqa: E402


def _front_end(spec_path: Path) -> dict[str, float]:
    archc.parse(spec_path)  # warm the grammar cache, as any process does once
    t0 = time.perf_counter()
    file, text = parse_file(spec_path)
    t1 = time.perf_counter()
    spec = check(file, all_blocks(), text)
    t2 = time.perf_counter()
    g = to_ir(spec)
    t3 = time.perf_counter()
    lower(g)
    t4 = time.perf_counter()
    return {"parse": t1 - t0, "check": t2 - t1, "ir": t3 - t2, "lower": t4 - t3, "total": t4 - t0}


def _reference_for(spec: archc.dsl.spec.Spec) -> RefNAFNet:  # type: ignore[name-defined]
    enc = [s.repeat for s in spec.by_role("encoder")]
    dec = [s.repeat for s in spec.by_role("decoder")]
    return RefNAFNet(spec.width, enc, spec.by_role("middle")[0].repeat, dec)


def _interleaved(fns: dict[str, object], repeats: int, warmup: int = 1) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(warmup):
        for fn in fns.values():
            fn()  # type: ignore[operator]
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()  # type: ignore[operator]
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=str(ROOT / "specs" / "nafnet_gopro.arch"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec_path = Path(args.spec)

    fe = _front_end(spec_path)
    print(f"front end ({spec_path.name}): parse {fe['parse']*1e3:.0f} ms, check {fe['check']*1e3:.0f} ms, "
          f"IR {fe['ir']*1e3:.0f} ms, lower {fe['lower']*1e3:.0f} ms -> total {fe['total']:.3f} s (goal < 1 s)")

    spec = archc.parse(spec_path)
    built = archc.build(spec).eval()
    ref = _reference_for(spec).eval()
    ref.load_state_dict(built.state_dict(), strict=True)
    x = torch.rand(1, 3, args.size, args.size)

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report = export_onnx(built, Path(tmp) / "built.onnx")
        export_s = time.perf_counter() - t
        print(f"ONNX export {report.export_seconds:.2f} s + simplify {report.simplify_seconds:.2f} s "
              f"(total with checks and write {export_s:.2f} s, goal < 30 s); "
              f"{report.nodes_before_simplify} -> {report.nodes} nodes")
        export_onnx(ref, Path(tmp) / "ref.onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sessions = {k: ort.InferenceSession(str(Path(tmp) / f"{k}.onnx"), opts, providers=["CPUExecutionProvider"])
                    for k in ("built", "ref")}
        feed = {"image": x.numpy()}
        with torch.inference_mode():
            tt = _interleaved({"built": lambda: built(x), "ref": lambda: ref(x)}, args.repeats)
        to = _interleaved({k: (lambda s=s: s.run(None, feed)) for k, s in sessions.items()}, args.repeats)

    print(f"\n{args.size}x{args.size}, 1 thread, median of {args.repeats} interleaved runs")
    print(f"{'runtime':<14}{'spec-built':>12}{'reference':>12}{'speed ratio':>14}")
    for name, t in (("torch", tt), ("onnxruntime", to)):
        print(f"{name:<14}{t['built']*1e3:>10.1f}ms{t['ref']*1e3:>10.1f}ms{t['ref']/t['built']:>14.3f}")
    print("(speed ratio = reference time / spec-built time; goal >= 0.97)")


if __name__ == "__main__":
    main()
