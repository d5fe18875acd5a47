"""Package a finished `archc train` run as a shipped teacher: pretrained/NAME/.

Evaluates the run's weights on the test split of the set it trained on (NAFNet's protocol), and
writes, each atomically: weights.safetensors, spec.arch, card.json (the machine-readable model
card), MODEL_CARD.md and gain_curve.png (from benchmarks/teacher_curve.py, when the run has one).

    python tools/package_teacher.py specs/nafnet_small.arch runs/teacher_small --data runs/synth0 \
        --name nafnet_small

A teacher trained in phases (a second `archc train --weights FIRST/weights.safetensors` run
continuing from a first) is packaged from its last run with `--after FIRST`: the card lists every
phase's recipe, the steps and wall time of all of them, one reproduce command per phase, and one
gain curve over the phases' steps end to end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from archc.api import build, parse
from archc.compiler.files import atomic_path, write_text_atomic
from archc.compiler.weights import read_metadata
from archc.runtime.accel.accelerator import cpu_flags, cpu_model
from archc.runtime.data.datasets import open_dataset
from archc.runtime.evaluation.evaluate import evaluate
from archc.runtime.training.gain_curve import plot_gain_curve

REPO = Path(__file__).resolve().parents[1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _train_command(spec: str, data: str, run: str, cfg: dict[str, Any], threads: int, start: str | None) -> str:
    length = f"--minutes {cfg['minutes']:g}" if cfg.get("minutes") else f"--iters {cfg['iters']}"
    weights = f" --weights {start}" if start else ""
    return (f"OMP_NUM_THREADS={threads} archc train {spec} --data {data} --out {run}{weights} {length} "
            f"--batch {cfg['batch']} --crop {cfg['crop']} --lr {cfg['lr']:g} --warmup {cfg['warmup']:g} "
            f"--ema {cfg['ema']:g} --seed {cfg['seed']}")


def _commands(spec: str, data: str, run: str, cfgs: list[dict[str, Any]], seed: int, threads: int) -> list[str]:
    """The data command, then one `archc train` per phase, each starting from the one before."""
    runs = [run] if len(cfgs) == 1 else [f"{run}_phase{i + 1}" for i in range(len(cfgs))]
    lines = [f"archc data synth --out {data} --seed {seed}"]
    for i, cfg in enumerate(cfgs):
        start = f"{runs[i - 1]}/weights.safetensors" if i else None
        lines.append(_train_command(spec, data, runs[i], cfg, threads, start))
    return lines


RECIPE = ("batch", "crop", "lr", "warmup", "ema", "minutes", "iters", "seed")


def _recipe(cfg: dict[str, Any]) -> dict[str, Any]:
    return {k: cfg[k] for k in RECIPE if k in cfg} | {"loss": "PSNR loss", "optimizer": "AdamW, cosine schedule"}


def _phases(runs: list[Path]) -> list[dict[str, Any]]:
    """Each run's train.json, first phase first."""
    return [json.loads((run / "train.json").read_text()) for run in runs]


FAMILIES = {"naf": "NAFNet", "baseline": "NAFNet-Baseline", "restormer": "Restormer"}


def _family(spec_path: str) -> str:
    """The network family named by the spec's most frequent stage block (NAFNet, Restormer, ...)."""
    kinds = Counter(block.kind for stage in parse(spec_path).stages for block, _ in stage.runs)
    kind = kinds.most_common(1)[0][0]
    return FAMILIES.get(kind, f"`{kind}`")


def _card(args: argparse.Namespace, phases: list[dict[str, Any]], meta: dict[str, Any], scores: dict[str, Any],
          params: int, weights: Path) -> dict[str, Any]:
    trained = phases[-1]
    cfgs = [p["config"] for p in phases]
    threads = int(trained.get("threads", 0)) or None
    card = {
        "name": args.name,
        "family": _family(args.spec),
        "spec": "spec.arch",
        "spec_source": f"specs/{args.name}.arch",
        "parameters": params,
        "data": {"command": f"archc data synth --seed {meta['seed']}", "seed": meta["seed"],
                 "train_pairs": meta["splits"]["train"]["pairs"],
                 "test_pairs": scores["images"]},
        "recipe": _recipe(cfgs[-1]),
        "steps": sum(p["steps"] for p in phases),
        "wall_seconds": round(sum(p["seconds"] for p in phases), 1),
        "machine": {"cpu": cpu_model(), "cpu_flags": cpu_flags(), "torch_threads": threads or args.threads,
                    "accelerator": trained.get("accelerator", "cpu"), "torch": torch.__version__,
                    "python": platform.python_version()},
        "reproduce": _commands(f"specs/{args.name}.arch", "data/synth0", f"runs/{args.name}", cfgs, meta["seed"],
                               threads or args.threads),
        "test": {k: scores[k] for k in ("psnr", "ssim", "input_psnr", "gain_db", "images")} | {
            "protocol": "uint8 RGB, peak 255, whole 256x256 test crops, no border crop; SSIM 2-D Gaussian"},
        "weights_sha256": _sha256(weights),
    }
    if len(phases) > 1:
        card["phases"] = [{"recipe": _recipe(p["config"]), "steps": p["steps"], "wall_seconds": round(p["seconds"], 1)}
                          for p in phases]
    return card


def _phase_lines(card: dict[str, Any]) -> list[str]:
    phases = card.get("phases") or [{"recipe": card["recipe"], "steps": card["steps"]}]
    lines = []
    for i, phase in enumerate(phases):
        r = phase["recipe"]
        start = "from the phase before's weights, " if i else ""
        name = f"phase {i + 1}: " if len(phases) > 1 else ""
        lines.append(f"- {name}{start}{phase['steps']:,} steps at batch {r['batch']}, {r['crop']}x{r['crop']} crops; "
                     f"{r['loss']}, {r['optimizer']}, peak lr {r['lr']:g}, warm-up {r['warmup']:g} of the schedule, "
                     f"weight average (EMA) {r['ema']:g} saved")
    return lines


def _markdown(card: dict[str, Any], curve: bool) -> str:
    t, m = card["test"], card["machine"]
    lines = [
        f"# Model card: `pretrained:{card['name']}`", "",
        f"A {card['family']} teacher ({card['parameters']:,} parameters, spec `{card['spec_source']}`) "
        "trained by "
        f"`archc train` on the synthetic motion-blur set of `{card['data']['command']}`.", "",
        "## What it scores",
        f"On the synthetic test split ({t['images']} crops of 256x256 from three held-out photographs): "
        f"**{t['psnr']:.3f} dB PSNR** against {t['input_psnr']:.3f} dB for the blurred input "
        f"(**{t['gain_db']:+.3f} dB**), SSIM {t['ssim']:.4f}. Protocol: {t['protocol']}.", "",
        "The synthetic set is not GoPro: this teacher is for learning and demonstrating the method "
        "on a CPU, not for deblurring photographs.", "",
        "## How it was trained",
        *_phase_lines(card),
        f"- wall time: {card['wall_seconds'] / 60:.1f} min on {m['cpu']} "
        f"({', '.join(m['cpu_flags']) or 'no AVX flags'}), {m['torch_threads']} torch thread(s), "
        f"{m['accelerator']}, torch {m['torch']}",
        f"- weights sha256: `{card['weights_sha256']}`", "",
        "## Reproduce", "```sh", *card["reproduce"], "```",
        "(wall-time schedules follow the clock, so another machine reaches another step count.)", "",
    ]
    if curve:
        lines += ["## Gain curve", "![test PSNR gain against training steps](gain_curve.png)", ""]
    return "\n".join(lines)


def _joined_curve(runs: list[Path], phases: list[dict[str, Any]], out: Path) -> None:
    """The phases' gain curves end to end (steps and seconds counted from the first phase's start),
    a dashed line where each later phase begins: OUT/gain_curve.json and gain_curve.png."""
    points: list[dict[str, Any]] = []
    starts: list[int] = []
    steps, seconds = 0, 0.0
    for i, (run, phase) in enumerate(zip(runs, phases, strict=True)):
        curve = run / "gain_curve.json"
        if i:
            starts.append(steps)
        if curve.is_file():
            for p in json.loads(curve.read_text())["points"]:
                points.append({**p, "step": p["step"] + steps, "elapsed_s": round(p["elapsed_s"] + seconds, 1),
                               "phase": i + 1})
        steps, seconds = steps + phase["steps"], seconds + phase["seconds"]
    if not points:
        return
    write_text_atomic(out / "gain_curve.json", json.dumps({"phases": [str(r) for r in runs], "points": points},
                                                          indent=1) + "\n")
    plot_gain_curve(points, out / "gain_curve.png", starts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("run", type=Path, help="the --out folder of `archc train`")
    ap.add_argument("--data", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--threads", type=int, default=1, help="torch threads the training used, for the card")
    ap.add_argument("--dest", type=Path, default=REPO / "pretrained")
    ap.add_argument("--after", type=Path, action="append", default=[],
                    help="an earlier `archc train` run this one started from (its --weights), first phase first")
    ap.add_argument("--notes", type=Path, help="a Markdown file added to the model card as its Notes section")
    args = ap.parse_args()
    spec = parse(args.spec)
    weights = args.run / "weights.safetensors"
    if read_metadata(weights).get("spec", "").strip() != spec.text.strip():
        raise SystemExit(f"{weights} was trained on another spec than {args.spec}")
    model = build(spec, weights=weights).eval()
    result = evaluate(model, open_dataset(args.data, split="test"))
    scores = {"psnr": result.mean("psnr"), "ssim": result.mean("ssim"), "input_psnr": result.mean("input_psnr"),
              "images": len(result.images)}
    scores["gain_db"] = scores["psnr"] - scores["input_psnr"]
    runs = [*args.after, args.run]
    phases = _phases(runs)
    meta = json.loads((Path(args.data) / "meta.json").read_text())
    card = _card(args, phases, meta, scores, sum(p.numel() for p in model.parameters()), weights)
    out = args.dest / args.name
    out.mkdir(parents=True, exist_ok=True)
    files = {"weights.safetensors": weights, "spec.arch": Path(args.spec)}
    if len(runs) == 1:
        files |= {"gain_curve.png": args.run / "gain_curve.png", "gain_curve.json": args.run / "gain_curve.json"}
    else:
        _joined_curve(runs, phases, out)
    for name, src in files.items():
        if src.is_file():
            with atomic_path(out / name) as tmp:
                shutil.copyfile(src, tmp)
    write_text_atomic(out / "card.json", json.dumps(card, indent=1) + "\n")
    notes = ["## Notes", args.notes.read_text().strip(), ""] if args.notes else []
    write_text_atomic(out / "MODEL_CARD.md", "\n".join([_markdown(card, (out / "gain_curve.png").is_file()), *notes]))
    print(json.dumps(card["test"], indent=1))


if __name__ == "__main__":
    main()
