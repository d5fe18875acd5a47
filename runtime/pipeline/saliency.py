"""The saliency stage: block and slot saliency of trained weights, optionally checked by ablation;
writes OUT/saliency.json and OUT/saliency.png."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archc.compiler.frontend import parse
from archc.dsl.check import SALIENCY_METRICS
from archc.dsl.spec import Spec
from archc.errors import SaliencyError

from .context import Context
from .heartbeat import Heartbeat
from .layout import dataset, folder, teacher_weights

PHASES = {"first_order": "gradients", "grasp": "grasp (H g)", "synflow": "synflow", "ablation": "ablation"}


@frozen
class SaliencySettings:
    """Score `spec` with `weights` (default RUN/teacher's) on `batches` batches of `batch` square
    `crop` px crops of `data`'s `split`; with `ablate`, also the PSNR drop of removing each block
    and slot on `val_images` test images (centre `val_crop` crops, 0: whole images)."""

    spec: str
    weights: str | None = None
    data: str | None = None
    out: str | None = None
    batches: int = 8
    batch: int = 4
    crop: int = 256
    metrics: tuple[str, ...] = SALIENCY_METRICS
    loss: str = "psnr"
    split: str = "train"
    seed: int = 0
    ablate: bool = False
    val_images: int = 16
    val_crop: int = 256


@frozen
class SaliencyResult:
    """saliency.json's content, the units the spec's `exclude top K` lines exclude (name -> why)
    and the folder written."""

    doc: dict[str, Any]
    marks: dict[str, str]
    out: Path


def saliency(run_dir: Path, settings: SaliencySettings, ctx: Context) -> SaliencyResult:
    from archc.runtime.accel.accelerator import describe
    from archc.runtime.network.build import build
    from archc.runtime.saliency import report
    from archc.runtime.saliency.measures import check_names
    from archc.runtime.saliency.plot import plot  # matplotlib: imported only when drawing
    from archc.runtime.saliency.score import check_trained

    s, where = settings, ctx.device()
    weights, data = teacher_weights(run_dir, s.weights), dataset(run_dir, s.data)
    checked = parse(s.spec)
    names = check_names(list(s.metrics))
    _check_crop(s.crop, checked.levels)
    ctx.check_teacher(checked, weights, data, s.val_images, s.val_crop or None)
    model = build(checked, weights=weights)
    check_trained(checked, model)  # before reading any training data
    result, abl = _measure(checked, model, s, names, data, str(where), ctx)
    info = report.RunInfo(weights=str(weights), data=str(data), split=s.split, seed=s.seed, val_crop=s.val_crop or None)
    doc = {**report.to_json(checked, result, info, abl), **describe(where)}
    out = folder(run_dir, s.out, "saliency")
    report.write(out / "saliency.json", doc)
    marks = _resolved_marks(checked, doc, out, ctx)
    plot(doc, out / "saliency.png", tuple(marks))
    return SaliencyResult(doc, marks, out)


def _measure(
    checked: Spec, model: Any, s: SaliencySettings, names: Any, data: str, device: str, ctx: Context
) -> tuple[Any, Any]:
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.saliency import probe
    from archc.runtime.saliency.ablate import ablate as ablate_units
    from archc.runtime.saliency.score import compute_saliency
    from archc.runtime.saliency.units import block_units, slot_units

    batches = probe.train_batches(open_dataset(data, split=s.split), s.batches, s.batch, s.crop, s.seed)
    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=ctx.console,
        ) as bar,
        Heartbeat("saliency", console=ctx.console) as beat,
    ):
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done)
            beat.update(f"{PHASES.get(phase, phase)} {done}/{total}")

        result = compute_saliency(checked, model, batches, metrics=names, loss=s.loss, device=device, progress=progress)
        if not s.ablate:
            return result, None
        images = probe.val_images(open_dataset(data, split="test"), s.val_images, s.val_crop or None)
        units = (*block_units(checked, model), *slot_units(checked, model))
        return result, ablate_units(
            model, units, images, batch=s.batch, device=device, progress=lambda d, t: progress("ablation", d, t)
        )


def _check_crop(crop: int, levels: int) -> None:
    if crop % 2**levels:
        raise SaliencyError(
            f"--crop {crop} is not a multiple of {2**levels}",
            code="E1002",
            help=f"the network pads inputs to multiples of {2**levels}; use e.g. "
            f"--crop {max(2**levels, crop - crop % 2**levels)}",
        )


def _resolved_marks(spec: Spec, data: Mapping[str, Any], out: Path, ctx: Context) -> dict[str, str]:
    from archc.runtime.saliency.resolve import resolve_data

    try:
        resolution = resolve_data(spec, data, out / "saliency.json")
    except SaliencyError as exc:
        ctx.say(f"[yellow]cannot resolve the spec's `exclude top K` lines: {exc}[/yellow]")
        return {}
    return {name: why for name in resolution.excluded if (why := resolution.reason(name)) is not None}
