"""Compiler benchmark: the optimized spec-built NAFNet against the plain export of an independent
hand-written NAFNet (tests/reference_nafnet.py), in ONNX Runtime and in torch, 1 thread,
interleaved in one process; plus what each inference pass does to the graph.

    .venv/bin/python benchmarks/compile_bench.py [--spec specs/nafnet_gopro.arch] [--size 256] [--repeats 7]
    .venv/bin/python benchmarks/compile_bench.py --spec specs/restormer_deblur.arch --size 128

A spec that declares `checkpoint restormer` is measured against the hand-written Restormer of
tests/reference_restormer.py instead (weights moved across by the checkpoint layout), and its
fixture check is restormer_tiny's.

Prints figures; asserts nothing. Goals: speed ratio >= 1.3 in ONNX Runtime and >= 1.5 in
torch, with the optimized network within 1e-4 of the official fixture's output; front end < 1 s.

Both networks carry the same weights: the reference's fresh init with every parameter perturbed
(seeded), so beta / gamma and the LayerNorm affines are not the trivial values an export could fold.
Per pass (cumulative, pipeline order) it reports the exported node count and the Reorder nodes in
the graph ONNX Runtime optimizes it into (`SessionOptions.optimized_model_filepath`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import archc  # noqa: E402
from archc.api import parse_file  # noqa: E402
from archc.compiler.blocks import all_blocks  # noqa: E402
from archc.compiler.ir import to_ir  # noqa: E402
from archc.compiler.layouts import to_network_keys  # noqa: E402
from archc.compiler.lower import lower  # noqa: E402
from archc.compiler.onnx_export import to_onnx_model  # noqa: E402
from archc.compiler.passes import optimize, passes_for  # noqa: E402
from archc.dsl.check import check  # noqa: E402

from helpers import fixture  # noqa: E402
from reference_nafnet import RefNAFNet  # noqa: E402
from reference_restormer import RefRestormer  # noqa: E402

REORDERS = ("ReorderInput", "ReorderOutput")


def _front_end(spec_path: Path) -> float:
    archc.parse(spec_path)  # warm the grammar cache, as any process does once
    t0 = time.perf_counter()
    file, text = parse_file(spec_path)
    lower(to_ir(check(file, all_blocks(), text)))
    return time.perf_counter() - t0


def _is_restormer(spec: Any) -> bool:
    return bool(spec.ops.checkpoint == "restormer")


def _restormer_for(spec: Any) -> RefRestormer:
    stages = (*spec.by_role("encoder"), *spec.by_role("middle"))
    block = spec.stages[0].block.params
    return RefRestormer(spec.in_channels, spec.out_channels, spec.width, tuple(s.repeat for s in stages),
                        spec.by_role("refine")[0].repeat, tuple(s.block.params.heads for s in stages), block.ffn,
                        block.bias, block.norm == "withbias", spec.residual == "feature")


def _reference_for(spec: Any) -> torch.nn.Module:
    if _is_restormer(spec):
        return _restormer_for(spec)
    enc = [s.repeat for s in spec.by_role("encoder")]
    dec = [s.repeat for s in spec.by_role("decoder")]
    return RefNAFNet(spec.width, enc, spec.by_role("middle")[0].repeat, dec)


def _perturbed(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    return model.eval()


def _session(proto: Any, saved: Path | None = None) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    if saved is not None:
        opts.optimized_model_filepath = str(saved)
    return ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _ort_graph(proto: Any, tmp: Path) -> Counter[str]:
    """Op counts of the graph ONNX Runtime optimizes `proto` into."""
    saved = tmp / "ort_optimized.onnx"
    _session(proto, saved)
    return Counter(n.op_type for n in onnx.load(str(saved)).graph.node)


def _runner(sess: ort.InferenceSession, feed: dict[str, np.ndarray]) -> Callable[[], object]:
    return lambda: sess.run(None, feed)


def _interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def _per_pass(built: torch.nn.Module, ref: torch.nn.Module, tmp: Path) -> None:
    print("\nper pass (cumulative, ONNX target, exported at 64x64 dynamic): nodes / ORT-optimized nodes / Reorders")
    rows: list[tuple[str, Any]] = [("reference, plain export", to_onnx_model(ref, passes=())[0])]
    chosen: list[str] = []
    for name in ("plain (-O0)", *passes_for(2, "onnx")):
        if not name.startswith("plain"):
            chosen.append(name)
        rows.append((name if chosen else "spec-built, plain (-O0)", to_onnx_model(built, passes=tuple(chosen))[0]))
    for label, proto in rows:
        ops = _ort_graph(proto, tmp)
        reorders = sum(ops[k] for k in REORDERS)
        print(f"  {label:<28}{len(proto.graph.node):>6} nodes{sum(ops.values()):>7} in ORT{reorders:>6} Reorders"
              f"  (Transpose {ops['Transpose']}, Split {ops['Split']}, Add {ops['Add']}, Mul {ops['Mul']})")


def _restormer_fixture_check() -> None:
    folder = ROOT / "tests" / "fixtures" / "unet_families"
    tiny = archc.build(ROOT / "specs" / "restormer_tiny.arch").eval()
    state = torch.load(folder / "restormer_tiny_state.pt", weights_only=True)
    tiny.load_state_dict(to_network_keys(state, archc.compile_ir(ROOT / "specs" / "restormer_tiny.arch"),
                                         frozenset(tiny.state_dict())), strict=True)
    x = torch.load(folder / "restormer_tiny_input.pt", weights_only=True)
    exp = torch.load(folder / "restormer_tiny_output.pt", weights_only=True).numpy()
    proto, _ = to_onnx_model(tiny, sample=(40, 56), passes=passes_for(2, "onnx"))
    y_ort = _session(proto).run(None, {"image": x.numpy()})[0]
    with torch.inference_mode():
        y_torch = optimize(tiny, level=2, target="torch")(x).numpy()
    print(f"official fixture (restormer_tiny): max |optimized - official| = {np.abs(y_ort - exp).max():.2e} "
          f"(ONNX -O2), {np.abs(y_torch - exp).max():.2e} (torch -O2); goal <= 1e-4")


def _fixture_check() -> None:
    tiny = archc.build(ROOT / "specs" / "nafnet_tiny.arch").eval()
    tiny.load_state_dict(fixture("tiny_strong_state.pt"), strict=True)  # type: ignore[arg-type]
    x, expected = fixture("tiny_input.pt"), fixture("tiny_strong_output.pt")
    proto, _ = to_onnx_model(tiny, passes=passes_for(2, "onnx"))
    y_ort = _session(proto).run(None, {"image": x.numpy()})[0]  # type: ignore[attr-defined]
    with torch.inference_mode():
        y_torch = optimize(tiny, level=2, target="torch")(x).numpy()  # type: ignore[operator]
    exp = expected.numpy()  # type: ignore[attr-defined]
    print(f"official fixture (tiny_strong): max |optimized - official| = {np.abs(y_ort - exp).max():.2e} (ONNX -O2), "
          f"{np.abs(y_torch - exp).max():.2e} (torch -O2); goal <= 1e-4")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=str(ROOT / "specs" / "nafnet_gopro.arch"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec_path = Path(args.spec)
    print(f"front end ({spec_path.name}): parse + check + IR + lower {_front_end(spec_path):.3f} s (goal < 1 s)")
    spec = archc.parse(spec_path)
    _restormer_fixture_check() if _is_restormer(spec) else _fixture_check()

    ref = _perturbed(_reference_for(spec))
    built = archc.build(spec).eval()
    built.load_state_dict(to_network_keys(ref.state_dict(), to_ir(spec), frozenset(built.state_dict())), strict=True)
    x = torch.rand(1, spec.in_channels, args.size, args.size, generator=torch.Generator().manual_seed(1))
    onnx_passes, torch_passes = passes_for(2, "onnx"), passes_for(2, "torch")
    fast = optimize(built, torch_passes)

    with tempfile.TemporaryDirectory() as tmp:
        _per_pass(built, ref, Path(tmp))
        opt_proto, timing = to_onnx_model(built, passes=onnx_passes)
        print(f"export of the spec-built network (-O2): trace {timing['export']:.2f} s, "
              f"simplify + graph passes {timing['simplify']:.2f} s")
        sessions = {"ref": _session(to_onnx_model(ref, passes=())[0]), "opt": _session(opt_proto)}
        feed = {"image": x.numpy()}
        outs = {k: s.run(None, feed)[0] for k, s in sessions.items()}
        with torch.inference_mode():
            t_ref, t_opt = ref(x), fast(x)
            tt = _interleaved({"ref": lambda: ref(x), "opt": lambda: fast(x)}, args.repeats)
        to = _interleaved({k: _runner(s, feed) for k, s in sessions.items()}, args.repeats)

    print(f"\n{args.size}x{args.size}, 1 thread, median of {args.repeats} interleaved runs "
          f"(same weights; optimized vs the reference's plain export / eager module)")
    print(f"{'runtime':<14}{'optimized':>12}{'reference':>12}{'speed ratio':>14}{'max |diff|':>12}   passes")
    diffs = {"torch": float((t_ref - t_opt).abs().max()), "onnxruntime": float(np.abs(outs["ref"] - outs["opt"]).max())}
    for name, t, passes in (("torch", tt, torch_passes), ("onnxruntime", to, onnx_passes)):
        print(f"{name:<14}{t['opt']*1e3:>10.1f}ms{t['ref']*1e3:>10.1f}ms{t['ref']/t['opt']:>14.3f}"
              f"{diffs[name]:>12.1e}   {', '.join(passes)}")
    print("(speed ratio = reference time / optimized time; goals >= 1.5 torch, >= 1.3 ONNX Runtime)")


if __name__ == "__main__":
    main()
