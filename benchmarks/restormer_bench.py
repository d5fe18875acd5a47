"""Where a Restormer spends its time, and whether profiling buys a better search than counting
transformer blocks (the latency term of arXiv 2605.02794).

    python benchmarks/restormer_bench.py SPEC [--weights W] [--size H W]
    python benchmarks/restormer_bench.py SPEC --weights W --run RUN [--budgets 24 48]

1. The per-slot block table on `cpu` (MEASURED here, ONNX Runtime) and on `s24` (MODELLED, the
   calibrated cost model): each slot's original block in ms and as a share of the whole network.
   A spec without a search part gets one slot per stage (`candidates *: identity`) for this table.
2. With `--run` (a finished `archc run` of SPEC: its surrogates, data and profile): at each budget,
   two searches with the same surrogates, strategy and seed, one on the run's block table (archc)
   and one on `--latency-proxy transformer-count`; each front's networks re-priced as whole
   networks, MEASURED on `cpu` and MODELLED on `s24`; per device the hypervolume ratio (proxy /
   archc, one reference point) and the best speed-up within 0.3 dB of each.

Prints figures (with this CPU's instruction-set flags); asserts nothing. Writes OUT/restormer_bench.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import archc
from archc.cli import cli
from archc.compiler.space import SearchSpace
from archc.runtime.accel.accelerator import cpu_flags
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.measure import Protocol
from archc.runtime.profile.run import Request, execute
from archc.runtime.search.reprice import Repriced, compare, network_pricer, reprice

DEVICES = (("cpu", "measured"), ("s24", "modelled"))


def _with_slots(path: str) -> Any:
    """SPEC, or SPEC with one slot per stage when it has no search part."""
    spec = archc.parse(path)
    if spec.search is not None:
        return spec
    return archc.parse(f"{spec.text}\nsearch over {spec.name} {{\n    candidates *: identity\n}}\n")


def block_table(spec: Any, size: tuple[int, int], out: Path, protocol: Protocol) -> dict[str, Any]:
    """Per device, each slot's original block: ms in the network and share of the baseline."""
    tables: dict[str, Any] = {}
    space = SearchSpace.of(spec)
    for device, kind in DEVICES:
        _, table = execute(Request(spec, device, size=size, out=out / f"profile_{device}", protocol=protocol))
        rows = [
            {
                "slot": s.name,
                "block": s.original.canonical,
                "count": s.count,
                "ms": table.net_ms(table.unit(s, s.original)),
            }
            for s in space.slots
        ]
        for r in rows:
            r["share"] = r["ms"] / table.baseline_ms
        tables[device] = {
            "kind": kind,
            "baseline_ms": table.baseline_ms,
            "fixed_ms": table.fixed_ms,
            "overhead_ms": table.overhead_ms,
            "slots": rows,
        }
    return tables


def _print_table(tables: dict[str, Any], size: tuple[int, int]) -> None:
    print(f"\nper-slot block table at {size[0]}x{size[1]} (each slot's original block inside the network)")
    head = "".join(f"{d + ' ms (' + t['kind'] + ')':>22}{'share':>8}" for d, t in tables.items())
    print(f"  {'slot':<12}{'block':<24}{head}")
    first = next(iter(tables.values()))
    for i, row in enumerate(first["slots"]):
        cells = "".join(f"{t['slots'][i]['ms']:>22.3f}{t['slots'][i]['share']:>8.1%}" for t in tables.values())
        print(f"  {row['slot']:<12}{row['block'] + (' x' + str(row['count']) if row['count'] > 1 else ''):<24}{cells}")
    for key in ("fixed_ms", "overhead_ms", "baseline_ms"):
        cells = "".join(f"{t[key]:>22.3f}{'':>8}" for t in tables.values())
        print(f"  {key.removesuffix('_ms'):<36}{cells}")


def _search(
    spec_path: str, run: Path, weights: str, data: str, out: Path, budget: int, proxy: bool, seed: int
) -> dict[str, Any]:
    args = [
        "search",
        spec_path,
        "--weights",
        weights,
        "--surrogates",
        str(run / "distill" / "surrogates"),
        "--data",
        data,
        "--budget",
        str(budget),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--allow-weak-teacher",
    ]
    latency = run / "profile" / "latency.json"
    if proxy:
        args += ["--latency-proxy", "transformer-count"]
    elif latency.is_file():
        args += ["--device", json.loads(latency.read_text())["device"]["name"], "--latency", str(latency)]
    if not (out / "search.json").is_file():
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        if res.exit_code != 0:
            raise SystemExit(f"archc {' '.join(args)} failed:\n{res.output}")
    return json.loads((out / "search.json").read_text())  # type: ignore[no-any-return]


def _print_front(f: Repriced, other: Repriced, unit: str) -> None:
    print(f"  {f.name}: {len(f.drops)} front networks")
    print(
        f"    {'PSNR drop dB':>13}{'searched (' + unit + ')':>34}{'cpu ms (measured)':>19}{'s24 ms (modelled)':>19}"
        "  network"
    )
    for i in range(len(f.drops)):
        print(
            f"    {f.drops[i]:>13.3f}{f.searched[i]:>34.3f}{f.latency_ms[i]:>19.3f}{other.latency_ms[i]:>19.3f}"
            f"  {f.canonical[i]}"
        )


def fronts(
    spec_path: str,
    run: Path,
    weights: str,
    data: str,
    size: tuple[int, int],
    budgets: list[int],
    seed: int,
    out: Path,
    protocol: Protocol,
) -> dict[str, Any]:
    spec = archc.parse(spec_path)
    pricers = {d: network_pricer(spec, resolve(d, protocol), size) for d, _ in DEVICES}
    report: dict[str, Any] = {}
    for budget in budgets:
        results = {
            name: _search(spec_path, run, weights, data, out / f"{name}_{budget}", budget, name == "proxy", seed)
            for name in ("archc", "proxy")
        }
        priced = {d: [reprice(n, r, spec, pricers[d]) for n, r in results.items()] for d in pricers}
        print(f"\nbudget {budget}: fronts re-priced as whole networks at {size[0]}x{size[1]}")
        for i, name in enumerate(results):
            unit = results[name].get("latency_unit", f"ms, {results[name]['latency_source']}")
            _print_front(priced["cpu"][i], priced["s24"][i], unit)
        report[str(budget)] = {}
        for d, kind in DEVICES:
            cmp = compare(priced[d], max_drop=0.3)
            report[str(budget)][d] = cmp
            a, p = cmp["fronts"]
            print(
                f"  on {d} ({kind}): hypervolume archc {a['hypervolume']:.4g}, proxy {p['hypervolume']:.4g} "
                f"(proxy / archc {p['hypervolume_ratio'] or 0:.3f}); best speed-up within 0.3 dB: archc "
                f"{_x(a['best_speedup_within'])}, proxy {_x(p['best_speedup_within'])}"
            )
    return report


def _x(v: float | None) -> str:
    return "none" if v is None else f"{v:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec")
    ap.add_argument("--weights", help="teacher weights (needed with --run)")
    ap.add_argument("--run", type=Path, help="a finished `archc run` of SPEC")
    ap.add_argument("--data", help="dataset (default: the run's search's)")
    ap.add_argument("--size", nargs=2, type=int, default=(256, 256))
    ap.add_argument("--budgets", nargs="+", type=int, default=[24, 48])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("runs/restormer_bench"))
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: time by CPU time (a machine shared with other jobs)",
    )
    args = ap.parse_args()
    size = (args.size[0], args.size[1])
    protocol = Protocol(clock=args.clock)
    print(f"CPU flags: {', '.join(cpu_flags()) or 'none of avx2 / avx512f / avx512_vnni'}")
    out: dict[str, Any] = {"spec": args.spec, "size": list(size), "cpu_flags": cpu_flags()}
    out["clock"] = args.clock
    out["block_table"] = block_table(_with_slots(args.spec), size, args.out, protocol)
    _print_table(out["block_table"], size)
    if args.run is not None:
        if not args.weights:
            raise SystemExit("--run needs --weights (the run's teacher)")
        data = args.data or json.loads((args.run / "search" / "search.json").read_text())["data"]
        out["fronts"] = fronts(
            args.spec, args.run, args.weights, data, size, args.budgets, args.seed, args.out, protocol
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "restormer_bench.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {args.out / 'restormer_bench.json'}")


if __name__ == "__main__":
    main()
