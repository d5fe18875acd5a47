"""What each stage of the method buys, on a finished `archc run` (the demo's: specs/nafnet_small.arch).

At the same evaluation budget, four searches over the same teacher, data and device:
  full          the run's own search (saliency exclusions, distilled surrogates, BoTorch);
  no-saliency   the spec's `exclude` lines dropped, so protected slots are searched too (their
                surrogates are distilled and their blocks profiled here, with the run's settings);
  no-distill    candidates plugged in as initialised (`archc distill --iters 0`);
  random        random search instead of BoTorch.
Each prints the final front's hypervolume in (PSNR drop, latency / the original network's latency),
both minimised, with one reference point for all (the full run's PSNR-drop reference, and 1.0:
no slower than the original), so variants profiled separately compare; and the knee's speed-up
and PSNR drop. The PSNR drops are each search's own objective on the validation crops: the quality that
variant would ship. Writes OUT/ablation.json and prints a Markdown table.

    python benchmarks/ablation_bench.py runs/demo --out runs/demo/ablation
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

from archc.cli import cli
from archc.compiler.files import write_text_atomic
from archc.runtime.search.pareto import front_indices, hypervolume_2d, knee

VARIANTS = ("full", "no-saliency", "no-distill", "random")


def _cli(*args: object) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"archc {' '.join(map(str, args))} failed:\n{result.output}")


def _settings(run: Path) -> dict[str, Any]:
    """What the run searched with: spec, teacher, surrogates, data, device, budget, seed, validation
    crops and the distill config."""
    search = json.loads((run / "search" / "search.json").read_text())
    distill = json.loads((run / "distill" / "distill.json").read_text())
    return {"spec": search["spec"], "teacher": search["teacher"], "surrogates": search["surrogates"],
            "data": search["data"], "device": search["device"],
            "budget": search["budget"], "seed": search["seed"], "val_images": len(search["validation"]["images"]),
            "crop": search["validation"]["crop"], "distill": distill["config"]}


def _distill(spec: str, s: dict[str, Any], out: Path, iters: int) -> Path:
    cfg = s["distill"]
    _cli("distill", spec, "--weights", s["teacher"], "--data", s["data"], "--out", out, "--iters", iters,
         "--fraction", cfg["fraction"], "--batch", cfg["batch"], "--crop", cfg["crop"], "--jobs", 2,
         "--seed", cfg["seed"], "--no-report", "--allow-weak-teacher")
    return out / "surrogates"


def _search(spec: str, s: dict[str, Any], bank: Path, out: Path, strategy: str, latency: Path | None) -> Path:
    extra = ["--latency", latency] if latency is not None else []
    _cli("search", spec, "--weights", s["teacher"], "--surrogates", bank, "--data", s["data"], "--device",
         s["device"], "--budget", s["budget"], "--strategy", strategy, "--seed", s["seed"], "--val-images",
         s["val_images"], "--crop", s["crop"], "--out", out, "--allow-weak-teacher", *extra)
    return out / "search.json"


def _without_exclusions(spec: Path, out: Path) -> Path:
    text = re.sub(r"^\s*exclude\b[^\n]*\n", "", spec.read_text(), flags=re.MULTILINE)
    path = out / spec.name
    write_text_atomic(path, text)
    return path


def _summary(results: Path, ref: list[float]) -> dict[str, Any]:
    r = json.loads(results.read_text())
    pts = np.array([[e["objectives"]["psnr_drop"], e["objectives"]["latency_ms"]] for e in r["evaluations"]])
    base = r["baseline"]["objectives"]["latency_ms"] if r.get("baseline") else float(pts[:, 1].max())
    relative = pts / np.array([1.0, base])
    k = knee(pts)
    return {"evaluations": len(pts), "front": len(front_indices(pts)), "hypervolume": hypervolume_2d(relative, ref),
            "knee": r["evaluations"][k]["canonical"], "knee_speedup": base / float(pts[k, 1]),
            "knee_drop_db": float(pts[k, 0])}


def _variants(run: Path, out: Path, s: dict[str, Any], found: dict[str, Path]) -> dict[str, float]:
    """Run the three other searches; fills `found` with their search.json and returns their seconds."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    open_spec = _without_exclusions(Path(s["spec"]), out)
    found["no-saliency"] = _search(str(open_spec), s, _distill(str(open_spec), s, out / "distill_open",
                                   s["distill"]["iters"]), out / "no-saliency", "botorch", None)
    seconds["no-saliency"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    latency = run / "profile" / "latency.json"
    found["no-distill"] = _search(s["spec"], s, _distill(s["spec"], s, out / "distill_init", 0), out / "no-distill",
                                  "botorch", latency)
    seconds["no-distill"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    found["random"] = _search(s["spec"], s, run / "distill" / "surrogates", out / "random", "random", latency)
    seconds["random"] = time.perf_counter() - t0
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path, help="a finished `archc run` folder")
    ap.add_argument("--out", type=Path, help="default: RUN/ablation")
    ap.add_argument("--reuse", action="store_true", help="only summarise the variants' existing search.json files")
    args = ap.parse_args()
    run, out = args.run, args.out or args.run / "ablation"
    out.mkdir(parents=True, exist_ok=True)
    s = _settings(run)
    full = run / "search" / "search.json"
    ref_json = json.loads(full.read_text())["reference_point"]
    ref = [ref_json["psnr_drop"], 1.0]
    seconds: dict[str, float] = {}
    found = {"full": full} | ({n: out / n / "search.json" for n in VARIANTS[1:]} if args.reuse else {})
    if not args.reuse:
        seconds = _variants(run, out, s, found)
    rows = {name: {**_summary(found[name], ref), "seconds": round(seconds.get(name, 0.0), 1)} for name in VARIANTS}
    write_text_atomic(out / "ablation.json", json.dumps({"run": str(run), "reference_point": ref, "budget": s["budget"],
                                                         "device": s["device"], "variants": rows}, indent=1))
    print(f"\nsame budget ({s['budget']} evaluations), device {s['device']}, reference point "
          f"(drop {ref[0]:.3f} dB, latency ratio {ref[1]:.1f})\n")
    print("| variant | hypervolume | knee speed-up | knee PSNR drop | knee |")
    print("|---|---:|---:|---:|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['hypervolume']:.4f} | {r['knee_speedup']:.2f}x | {r['knee_drop_db']:.3f} dB | "
              f"`{r['knee']}` |")


if __name__ == "__main__":
    main()
