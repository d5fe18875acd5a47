"""Verify a hand-picked network of a finished run, in float32 and with every searched slot w8a8.

    .venv/bin/python benchmarks/verify_bench.py RUN --choice "enc1=naf(sca=off);mid=identity" [--steps 300]
        [--loss teacher|sharp]

Prints figures; asserts nothing. Works on copies (RUN_hand, RUN_w8a8 beside RUN), never on RUN:
1. float32: the hand pick exported (`archc export --choice`), verified without fine-tuning: its ONNX
   and the teacher's timed end to end, interleaved, against the block table's prediction;
2. w8a8: the run's search given `precision *: w8a8`, the hand pick exported with every searched slot
   w8a8 (its mixed QDQ ONNX), fine-tuned for --steps steps and verified: drops on the whole test split
   (float and QDQ), the QDQ graph against the fake quantization, speed-ups against the FP32 teacher.
Goals on the demo run: <= 0.3 dB and >= 1.45x in float, latency predicted within 10 %;
>= 1.8x at <= 0.3 dB with w8a8; QDQ PSNR within 0.1 dB of the fake quantization.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from archc.api import parse
from archc.cli.verify import print_table
from archc.runtime.accel.accelerator import cpu_flags
from archc.runtime.pipeline.with_precision import with_precision
from archc.runtime.search.export import export
from archc.runtime.verify import FinetuneSettings, VerifySettings, verify


def _copy(run: Path, suffix: str) -> Path:
    out = run.with_name(run.name + suffix)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(run, out, ignore=shutil.ignore_patterns("export", "verify"))
    return out


def _with_w8a8(run: Path) -> None:
    path = run / "search" / "search.json"
    results = json.loads(path.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        results["spec_text"] = with_precision(parse(results["spec_text"]), "w8a8", Path(tmp)).read_text()
    path.write_text(json.dumps(results, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--choice", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--loss", choices=("teacher", "sharp"), default="teacher", help="Fine-tuning loss.")
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--skip-float", action="store_true", help="Only the w8a8 verification.")
    args = ap.parse_args()
    print(f"CPU flags: {cpu_flags()}")
    if not args.skip_float:
        hand = _copy(args.run, "_hand")
        export(hand / "search", "knee", hand / "export", choice=args.choice)
        print_table(verify(hand, VerifySettings(FinetuneSettings(steps=0), args.rounds), print))
    quant = _copy(args.run, "_w8a8")
    _with_w8a8(quant)
    export(quant / "search", "knee", quant / "export", choice=args.choice, precisions="*=w8a8")
    print_table(verify(quant, VerifySettings(FinetuneSettings(steps=args.steps, loss=args.loss), args.rounds), print))


if __name__ == "__main__":
    main()
