"""How long a whole block table takes: nafnet_gopro's 8 slots x 7 candidates (56 rows, 35 unique
block shapes + 5 empty graphs + the fixed part + the baseline), on `cpu` and on the modelled `s24`.

    .venv/bin/python benchmarks/profile_table_time.py [--spec specs/nafnet_gopro.arch] [--size 256 256]
        [--repeats 5] [--time-cap 5]

Prints wall seconds per device (the first device pays the ONNX exports; later ones reuse them,
so `s24` is also timed alone from a cold cache). Asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import archc
from archc.runtime.profile import workload
from archc.runtime.profile.measure import Protocol
from archc.runtime.profile.run import Request, execute


def _time(spec: object, device: str, size: tuple[int, int] | None, protocol: Protocol) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    record, _ = execute(Request(spec, device, size, None, protocol))  # type: ignore[arg-type]
    return time.perf_counter() - t0, len(record.data["blocks"]), len(record.data["measurements"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="specs/nafnet_gopro.arch")
    ap.add_argument("--size", nargs=2, type=int, default=(256, 256))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--time-cap", type=float, default=5.0)
    args = ap.parse_args()
    spec = archc.parse(args.spec)
    protocol = Protocol(threads=1, warmup=2, min_repeats=args.repeats, time_cap_s=args.time_cap)
    size = tuple(args.size)
    runs = [
        ("cpu", size, "cold cache: exports + measurements"),
        ("s24", size, "warm cache: the cost model only"),
        ("s24", None, "cold cache, s24's own 1280x720"),
    ]
    for device, sz, what in runs:
        if "cold" in what:
            workload.clear_cache()
        secs, rows, unique = _time(spec, device, sz, protocol)
        shown = f"{sz[0]}x{sz[1]}" if sz else "1280x720"
        print(
            f"{device:4s} at {shown:9s}: {secs:7.1f} s for {rows} (slot, candidate) rows, {unique} workloads "
            f"profiled ({what})"
        )


if __name__ == "__main__":
    main()
