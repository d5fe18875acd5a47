"""Do MACs rank blocks like latency does? The 7 candidates of one slot of nafnet_gopro, ranked by
conv MACs, by the modelled `s24` (at its 1280x720 frame) and by measured `cpu` (ONNX Runtime,
1 thread, at --cpu-size), each block at the slot's own feature shape.

    .venv/bin/python benchmarks/flops_vs_latency.py [--slot enc1] [--cpu-size 256 256] [--repeats 10]

Prints the three rankings side by side and Kendall's tau between them (HW-NAS-Bench's finding:
FLOPs are a poor latency proxy). Asserts nothing.
"""

from __future__ import annotations

import argparse

from scipy.stats import kendalltau

import archc
from archc.compiler.blocks import get as get_block
from archc.compiler.space import SearchSpace
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.measure import Protocol
from archc.runtime.profile.table import block_workload, units


def _shape(spec: object, slot: str, size: tuple[int, int]) -> tuple[int, tuple[int, int]]:
    u = next(u for u in units(spec, SearchSpace.of(spec), size) if u.slot == slot)  # type: ignore[arg-type]
    return u.channels, u.hw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="specs/nafnet_gopro.arch")
    ap.add_argument("--slot", default="enc1")
    ap.add_argument("--cpu-size", nargs=2, type=int, default=(256, 256))
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    spec = archc.parse(args.spec)
    slot = next(s for s in SearchSpace.of(spec).slots if s.name == args.slot)
    s24, cpu = resolve("s24"), resolve("cpu", Protocol(threads=1, warmup=3, min_repeats=args.repeats))
    c_s, hw_s = _shape(spec, slot.name, (720, 1280))
    c_c, hw_c = _shape(spec, slot.name, tuple(args.cpu_size))
    rows = []
    for block in slot.candidates:
        defn = get_block(block.kind)
        macs = defn.macs(block.params, c_s, *hw_s)
        ms_s24 = s24.profile(block_workload(block, c_s, hw_s)).median_ms
        ms_cpu = cpu.profile(block_workload(block, c_c, hw_c)).median_ms
        rows.append((block.canonical, macs, ms_s24, ms_cpu))
    print(
        f"slot {slot.name}: s24 at feature {c_s}x{hw_s[0]}x{hw_s[1]} (modelled); "
        f"cpu at {c_c}x{hw_c[0]}x{hw_c[1]} (measured, 1 thread)"
    )
    print(f"{'candidate':14s} {'GMACs':>8s} {'rank':>4s} {'s24 ms':>9s} {'rank':>4s} {'cpu ms':>9s} {'rank':>4s}")
    rank = {i: {r[0]: k + 1 for k, r in enumerate(sorted(rows, key=lambda r: r[i]))} for i in (1, 2, 3)}
    for name, macs, a, b in sorted(rows, key=lambda r: r[2]):
        print(
            f"{name:14s} {macs / 1e9:8.3f} {rank[1][name]:4d} {a:9.3f} {rank[2][name]:4d} {b:9.3f} {rank[3][name]:4d}"
        )
    cols = {"MACs": [r[1] for r in rows], "s24": [r[2] for r in rows], "cpu": [r[3] for r in rows]}
    for x, y in (("MACs", "s24"), ("MACs", "cpu"), ("s24", "cpu")):
        print(f"Kendall tau {x} vs {y}: {kendalltau(cols[x], cols[y]).statistic:+.3f}")


if __name__ == "__main__":
    main()
