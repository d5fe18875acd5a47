"""Package a finished `archc train` run as a shipped teacher: pretrained/NAME/.

Evaluates the run's weights on the test split of the set it trained on (NAFNet's protocol), and
writes, each atomically: weights.safetensors, spec.arch, card.json (the machine-readable model
card), MODEL_CARD.md and gain_curve.png (from benchmarks/teacher_curve.py, when the run has one).

    python tools/package_teacher.py specs/nafnet_small.arch runs/teacher_small --data runs/synth0 \
        --name nafnet_small
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

REPO = Path(__file__).resolve().parents[1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _commands(spec: str, data: str, run: str, cfg: dict[str, Any], seed: int, threads: int) -> list[str]:
    length = f"--minutes {cfg['minutes']:g}" if cfg.get("minutes") else f"--iters {cfg['iters']}"
    train = (f"OMP_NUM_THREADS={threads} archc train {spec} --data {data} --out {run} {length} "
             f"--batch {cfg['batch']} --crop {cfg['crop']} --lr {cfg['lr']:g} --warmup {cfg['warmup']:g} "
             f"--ema {cfg['ema']:g} --seed {cfg['seed']}")
    return [f"archc data synth --out {data} --seed {seed}", train]


FAMILIES = {"naf": "NAFNet", "baseline": "NAFNet-Baseline", "restormer": "Restormer"}


def _family(spec_path: str) -> str:
    """The network family named by the spec's most frequent stage block (NAFNet, Restormer, ...)."""
    kinds = Counter(block.kind for stage in parse(spec_path).stages for block, _ in stage.runs)
    kind = kinds.most_common(1)[0][0]
    return FAMILIES.get(kind, f"`{kind}`")


def _card(args: argparse.Namespace, trained: dict[str, Any], meta: dict[str, Any], scores: dict[str, Any],
          params: int, weights: Path) -> dict[str, Any]:
    cfg = trained["config"]
    threads = int(trained.get("threads", 0)) or None
    return {
        "name": args.name,
        "family": _family(args.spec),
        "spec": "spec.arch",
        "spec_source": f"specs/{args.name}.arch",
        "parameters": params,
        "data": {"command": f"archc data synth --seed {meta['seed']}", "seed": meta["seed"],
                 "train_pairs": meta["splits"]["train"]["pairs"],
                 "test_pairs": scores["images"]},
        "recipe": {k: cfg[k] for k in ("batch", "crop", "lr", "warmup", "ema", "minutes", "iters", "seed")
                   if k in cfg} | {"loss": "PSNR loss", "optimizer": "AdamW, cosine schedule"},
        "steps": trained["steps"],
        "wall_seconds": round(trained["seconds"], 1),
        "machine": {"cpu": cpu_model(), "cpu_flags": cpu_flags(), "torch_threads": threads or args.threads,
                    "accelerator": trained.get("accelerator", "cpu"), "torch": torch.__version__,
                    "python": platform.python_version()},
        "reproduce": _commands(f"specs/{args.name}.arch", "data/synth0", f"runs/{args.name}", cfg, meta["seed"],
                               threads or args.threads),
        "test": {k: scores[k] for k in ("psnr", "ssim", "input_psnr", "gain_db", "images")} | {
            "protocol": "uint8 RGB, peak 255, whole 256x256 test crops, no border crop; SSIM 2-D Gaussian"},
        "weights_sha256": _sha256(weights),
    }


def _markdown(card: dict[str, Any], curve: bool) -> str:
    t, m, r = card["test"], card["machine"], card["recipe"]
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
        f"- steps: {card['steps']:,} at batch {r['batch']}, {r['crop']}x{r['crop']} crops; "
        f"{r['loss']}, {r['optimizer']}, peak lr {r['lr']:g}, warm-up {r['warmup']:g} of the schedule, "
        f"weight average (EMA) {r['ema']:g} saved",
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("run", type=Path, help="the --out folder of `archc train`")
    ap.add_argument("--data", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--threads", type=int, default=1, help="torch threads the training used, for the card")
    ap.add_argument("--dest", type=Path, default=REPO / "pretrained")
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
    trained = json.loads((args.run / "train.json").read_text())
    meta = json.loads((Path(args.data) / "meta.json").read_text())
    card = _card(args, trained, meta, scores, sum(p.numel() for p in model.parameters()), weights)
    out = args.dest / args.name
    out.mkdir(parents=True, exist_ok=True)
    files = {"weights.safetensors": weights, "spec.arch": Path(args.spec),
             "gain_curve.png": args.run / "gain_curve.png", "gain_curve.json": args.run / "gain_curve.json"}
    for name, src in files.items():
        if src.is_file():
            with atomic_path(out / name) as tmp:
                shutil.copyfile(src, tmp)
    write_text_atomic(out / "card.json", json.dumps(card, indent=1) + "\n")
    write_text_atomic(out / "MODEL_CARD.md", _markdown(card, (out / "gain_curve.png").is_file()))
    print(json.dumps(card["test"], indent=1))


if __name__ == "__main__":
    main()
