"""`archc finetune`: a short end-to-end fine-tune of a network assembled from a teacher and its
surrogate bank, with NAFNet's training recipe."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from archc.api import build, choice_of, parse
from archc.compiler.choice import canonical_choice

from .accel import accelerator_option, amp_option, place, workers_option
from .options import seed_option
from .output import console
from .params import WEIGHTS


def _val_psnr(model: object, data: str, images: int) -> float:
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.evaluation.evaluate import evaluate

    return evaluate(model, open_dataset(data, split="test"), images).mean("psnr")  # type: ignore[arg-type]


@click.command("finetune")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=WEIGHTS, help="The teacher's weights.")
@click.option("--surrogates", required=True, type=click.Path(file_okay=False), help="Bank from `archc distill`.")
@click.option("--choice", "choices", multiple=True, help="SLOT=BLOCK (repeatable, or `a=x;b=y`).")
@click.option("--data", required=True, type=click.Path(file_okay=False), help="Dataset folder (train split used).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder.")
@click.option("--iters", type=int, default=200, show_default=True, help="Training steps.")
@click.option("--batch", type=int, default=8, show_default=True, help="Training crops per step.")
@click.option("--crop", type=int, default=64, show_default=True, help="Side of the square training crops, in px.")
@click.option(
    "--lr",
    type=float,
    default=1e-4,
    show_default=True,
    help="Peak learning rate (below NAFNet's 1e-3: the network starts trained).",
)
@seed_option
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt.")
@click.option(
    "--val-images",
    type=int,
    default=0,
    show_default=True,
    help="Report test PSNR on this many images before and after (0: skip).",
)
@accelerator_option
@amp_option
@workers_option
def finetune_cmd(
    spec: str,
    weights: str,
    surrogates: str,
    choices: Sequence[str],
    data: str,
    out: str,
    iters: int,
    batch: int,
    crop: int,
    lr: float,
    seed: int,
    resume: bool,
    val_images: int,
    accelerator: str = "auto",
    amp: str = "off",
    workers: int | None = None,
) -> None:
    """Fine-tune SPEC with --choice applied, starting from the teacher WEIGHTS and the SURROGATES;
    writes OUT/weights.safetensors (metadata: spec text and choice) and OUT/train.json."""
    from archc.compiler.ir import to_ir
    from archc.runtime.training.train import TrainConfig

    checked = parse(spec)
    choice = choice_of(checked, ";".join(choices) or None)
    model = build(checked, choice, weights, surrogates=surrogates)
    graph = to_ir(checked, choice)
    before = None
    if val_images:
        place(model, accelerator, graph)
        before = _val_psnr(model, data, val_images)
    meta = {
        "spec": checked.text,
        "spec_path": checked.path,
        "choice": canonical_choice(checked, choice),
        "teacher": str(weights),
        "surrogates": str(surrogates),
    }
    cfg = TrainConfig(
        iters=iters, batch=batch, crop=crop, lr=lr, seed=seed, accelerator=accelerator, amp=amp, workers=workers
    )
    result = _fit(model, data, Path(out), cfg, resume, meta, graph)
    console.print(f"{result.steps} steps in {result.seconds:.0f} s; weights: {result.weights}")
    if before is not None:
        place(model, accelerator)
        after = _val_psnr(model, data, val_images)
        console.print(f"test PSNR on {val_images} images: {before:.3f} dB assembled -> {after:.3f} dB fine-tuned")


def _fit(model: Any, data: str, out: Path, cfg: Any, resume: bool, meta: dict[str, str], graph: Any) -> Any:
    """NAFNet's training loop (`runtime.train`) with a progress bar."""
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.training.train import train

    with Progress(
        TextColumn("finetune"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("finetune", total=cfg.iters, info="")

        def on_step(r: dict[str, float]) -> None:
            bar.update(task, completed=r["step"], info=f"step {int(r['step'])} PSNR {r['psnr']:.2f} dB")

        return train(
            model,
            open_dataset(data, split="train"),
            out,
            cfg,
            resume=resume,
            metadata=meta,
            on_step=on_step,
            graph=graph,
        )
