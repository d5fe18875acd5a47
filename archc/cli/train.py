"""`archc train` and `archc eval`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from archc.api import build, choice_of, parse
from archc.compiler.files import write_text_atomic
from archc.compiler.ir import to_ir
from archc.dsl.precision import NAMES as PRECISIONS

from .accel import accelerator_option, amp_option, place, workers_option
from .options import choice_option, context, data_option, json_option, seed_option, spec_argument, weights_option
from .output import console, print_json

if TYPE_CHECKING:
    from torch import nn

ENSEMBLE_HELP = "Average the restorations of the 8 flips and rotations (8x the time; not NAFNet's protocol)."


def _open(data: str, split: str):  # type: ignore[no-untyped-def]
    from archc.runtime.data.datasets import open_dataset

    return open_dataset(data, split=split)


@click.command("train")
@spec_argument
@data_option("Dataset folder (train split used).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder.")
@click.option("--iters", type=int, help="Training steps.")
@click.option("--minutes", type=float, help="Training wall time (the cosine schedule follows it).")
@choice_option
@weights_option(required=False, text="Start from these weights.")
@click.option("--batch", type=int, default=16, show_default=True, help="Training crops per step.")
@click.option("--crop", type=int, default=96, show_default=True, help="Side of the square training crops, in px.")
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Peak learning rate (cosine schedule).")
@click.option("--warmup", type=click.FloatRange(0.0, 1.0, max_open=True), default=0.0, show_default=True,
              help="Fraction of the schedule spent ramping the lr up from 0.")
@click.option("--ema", type=click.FloatRange(0.0, 1.0, max_open=True), default=0.0, show_default=True,
              help="Save a moving average of the weights with this decay (0: the last weights).")
@seed_option
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt.")
@accelerator_option
@amp_option
@workers_option
def train_cmd(spec: str, data: str, out: str, iters: int | None, minutes: float | None, choices: Sequence[str],
              weights: str | None, batch: int, crop: int, lr: float, warmup: float, ema: float, seed: int,
              resume: bool, accelerator: str = "auto", amp: str = "off", workers: int | None = None) -> None:
    """Train SPEC on DATA with NAFNet's recipe; writes OUT/weights.safetensors and OUT/train.json."""
    from archc.runtime.pipeline import TrainSettings, train

    if (iters is None) == (minutes is None):
        raise click.UsageError("give exactly one of --iters N and --minutes M")
    settings = TrainSettings(spec, data, out, iters, minutes, ";".join(choices) or None, weights, batch, crop, lr,
                             warmup, ema, seed, resume, workers)
    train(Path(out), settings, context(accelerator, amp))


@click.command("eval")
@click.argument("spec", type=click.Path(dir_okay=False))
@weights_option(text="Weights to score (a file or `pretrained:NAME`).")
@click.option("--surrogates", type=click.Path(file_okay=False),
              help="Surrogate bank from `archc distill` (RUN/surrogates); --weights is its teacher.")
@click.option("--data", "datas", required=True, multiple=True, type=click.Path(file_okay=False),
              help="Dataset folder to score on (repeatable: one row each).")
@click.option("--split", default="test", show_default=True, help="Split of each dataset to score.")
@click.option("--choice", "choices", multiple=True, help="SLOT=BLOCK (repeatable).")
@click.option("--tlc", nargs=2, type=int, help="Test-time local converter for training crops H W.")
@click.option("--limit", type=int, help="Evaluate only the first N images.")
@click.option("--self-ensemble", "ensemble", is_flag=True, help=ENSEMBLE_HELP)
@click.option("--per-image", is_flag=True, help="Also give every image's scores.")
@json_option("Print the results as JSON instead of a table.")
@click.option("--precision", "precisions", multiple=True, type=click.Choice(PRECISIONS),
              help="Score the exported ONNX of this precision in ONNX Runtime (CPU) instead of the torch "
                   "module (repeatable: one row per precision).")
@click.option("--calibration", type=click.Path(file_okay=False),
              help="Dataset whose blurred crops calibrate int8 / w8a8 / w8a16 (its train split).")
@click.option("--calibration-method", default="minmax", show_default=True,
              help="Activation ranges: minmax, percentile or entropy.")
@click.option("--save", type=click.Path(dir_okay=False),
              help="Also write the results as JSON here (`archc report` shows RUN/eval.json).")
@accelerator_option
def eval_cmd(spec: str, weights: str, surrogates: str | None, datas: Sequence[str], split: str, choices: Sequence[str],
             tlc: tuple[int, int] | None, limit: int | None, ensemble: bool, per_image: bool, as_json: bool,
             precisions: Sequence[str] = (), calibration: str | None = None, calibration_method: str = "minmax",
             save: str | None = None, accelerator: str = "auto") -> None:
    """PSNR / SSIM of SPEC with WEIGHTS on each dataset (NAFNet's protocol), in float32 (or, with
    --precision, the exported ONNX of each precision in ONNX Runtime); frames too large for the
    accelerator's memory are restored in tiles."""
    from archc.runtime.accel.accelerator import describe
    from archc.runtime.accel.memory import frame_budget
    from archc.runtime.evaluation.evaluate import evaluate

    if precisions:
        _check_precision_options(precisions, calibration, calibration_method)
    checked = parse(spec)
    tlc_size = (tlc[0], tlc[1]) if tlc else None
    choice = ";".join(choices) or None
    model = build(checked, choice, weights, tlc_train_size=tlc_size, surrogates=surrogates)
    g = to_ir(checked, choice_of(checked, choice))
    networks = _networks(model, checked.in_channels, precisions, calibration, calibration_method)
    device = place(model, "cpu" if precisions else accelerator, g)
    budget = frame_budget(g, device)
    rows = [(p, d, evaluate(net, _open(d, split), limit, ensemble=ensemble, max_pixels=budget))
            for p, net in networks for d in datas]
    records = [{**r.to_json(per_image), "precision": p, "runtime": "torch" if p == "torch" else "onnxruntime-cpu",
                **describe(device)} for p, _, r in rows]
    if save:
        write_text_atomic(Path(save), json.dumps(records, indent=1) + "\n")
    if as_json:
        print_json(records)
        return
    console.print(_eval_table(f"{checked.name} ({weights})" + (", 8-view self-ensemble" if ensemble else ""), rows))
    if per_image:
        console.print(json.dumps([r.to_json(True)["images"] for _, _, r in rows], indent=1))


def _check_precision_options(precisions: Sequence[str], calibration: str | None, method: str) -> None:
    from archc.compiler.quantize import check_method, missing_calibration
    from archc.dsl.precision import is_quantized

    check_method(method)
    quantized = [p for p in precisions if is_quantized(p)]
    if quantized and calibration is None:
        raise missing_calibration(quantized[0])


def _networks(model: nn.Module, in_channels: int, precisions: Sequence[str], calibration: str | None,
              method: str) -> list[tuple[str, nn.Module]]:
    """(precision, network) pairs: the torch module alone, or one ONNX Runtime network per precision."""
    if not precisions:
        return [("torch", model)]
    from archc.dsl.precision import canonical as canonical_precision
    from archc.dsl.precision import is_quantized
    from archc.runtime.data.calibration import calibration as load_calibration
    from archc.runtime.network.onnx_network import onnx_network

    needs = calibration is not None and any(is_quantized(p) for p in precisions)
    calib = load_calibration(calibration, method) if needs else None  # type: ignore[arg-type]
    out: list[tuple[str, nn.Module]] = [
        (canonical_precision(p), onnx_network(model, p, calib if is_quantized(p) else None, in_channels))
        for p in dict.fromkeys(precisions)]
    return out


def _eval_table(title: str, rows: Sequence[tuple[str, str, object]]) -> Table:
    table = Table(title=title, title_justify="left")
    with_precision = any(p != "torch" for p, _, _ in rows)
    cols = (("precision",) if with_precision else ()) + ("dataset", "split", "images", "input PSNR", "PSNR", "SSIM",
                                                         "SSIM 3-D")
    for col in cols:
        table.add_column(col, justify="left" if col in ("precision", "dataset", "split") else "right")
    for p, d, r in rows:
        cells = [f"{d} ({r.dataset})", r.split, str(len(r.images)), f"{r.mean('input_psnr'):.3f}",  # type: ignore[attr-defined]
                 f"{r.mean('psnr'):.3f}", f"{r.mean('ssim'):.4f}", f"{r.mean('ssim3d'):.4f}"]  # type: ignore[attr-defined]
        table.add_row(*(([p] if with_precision else []) + cells))
    return table


@click.command("deblur")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@weights_option(text="Weights to restore with (a file or `pretrained:NAME`).")
@click.option("--surrogates", type=click.Path(file_okay=False),
              help="Surrogate bank from `archc distill` (RUN/surrogates); --weights is its teacher.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the restored PNGs.")
@click.option("--choice", "choices", multiple=True, help="SLOT=BLOCK (repeatable).")
@click.option("--tlc", nargs=2, type=int, help="Test-time local converter for training crops H W.")
@click.option("--tile", type=int, help="Restore in overlapping tiles of this size (large images).")
@click.option("--overlap", type=int, default=32, show_default=True, help="Overlap of neighbouring tiles, in px.")
@click.option("--self-ensemble", "ensemble", is_flag=True, help=ENSEMBLE_HELP)
@accelerator_option
def deblur_cmd(spec: str, images: Sequence[str], weights: str, surrogates: str | None, out: str, choices: Sequence[str],
               tlc: tuple[int, int] | None, tile: int | None, overlap: int, ensemble: bool,
               accelerator: str = "auto") -> None:
    """Restore IMAGES (any size) with SPEC and WEIGHTS; writes OUT/<name>.png. Without --tile, an
    image too large for the accelerator's memory is restored in tiles."""
    import numpy as np
    import torch

    from archc.runtime.accel.memory import frame_budget
    from archc.runtime.data.images import read_image, write_image
    from archc.runtime.restore.deblur import restore_image

    tlc_size = (tlc[0], tlc[1]) if tlc else None
    checked, choice = parse(spec), ";".join(choices) or None
    model = build(checked, choice, weights, tlc_train_size=tlc_size, surrogates=surrogates)
    g = to_ir(checked, choice_of(checked, choice))
    budget = frame_budget(g, place(model, accelerator, g))
    Path(out).mkdir(parents=True, exist_ok=True)
    for path in images:
        image = torch.from_numpy(np.ascontiguousarray(read_image(path).transpose(2, 0, 1)))
        restored = restore_image(model, image, tile, overlap, ensemble=ensemble, max_pixels=budget)
        restored = restored.numpy().transpose(1, 2, 0)
        target = Path(out) / (Path(path).stem + ".png")
        write_image(target, restored, bits=8)
        console.print(f"wrote {target}")
