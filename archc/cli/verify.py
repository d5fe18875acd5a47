"""`archc verify`: fine-tune a run's exported pick, score it on the whole test split, time its
exported ONNX against the teacher's, and write the "predicted -> verified" table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from .options import accelerator_option, seed_option
from .output import console

DEFAULT_STEPS = 300  # runtime.pipeline.verify's, repeated so that --help needs no torch


def steps_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--verify-steps",
        "steps",
        type=click.IntRange(0),
        default=DEFAULT_STEPS,
        show_default=True,
        help="Fine-tuning steps of the exported pick before it is scored (0: none).",
    )(f)


def loss_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--verify-loss",
        "loss",
        type=click.Choice(["sharp", "teacher"]),
        default="teacher",
        show_default=True,
        help="Fine-tuning loss: PSNR against the sharp image, or against the teacher's restoration (distillation).",
    )(f)


def rounds_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--verify-rounds",
        "rounds",
        type=click.IntRange(1),
        default=50,
        show_default=True,
        help="Interleaved timing rounds of the exported ONNX files (the median is reported).",
    )(f)


def within_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--verify-within",
        "within",
        type=click.FloatRange(0.0),
        help="Keep the fastest network of the search's front whose drop, once fine-tuned, is within this many "
        "dB on the whole test split (found by bisecting the front; it replaces the exported pick).",
    )(f)


def probes_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--verify-probes",
        "probes",
        type=click.IntRange(1),
        default=4,
        show_default=True,
        help="With --verify-within: front networks fine-tuned at most to find that network.",
    )(f)


def print_table(record: dict[str, Any]) -> None:
    from archc.runtime.verify.table import headline, rows_text

    probes = record.get("probes")
    if probes:
        console.print(f"probes of the front (fine-tuned, whole test split; within {probes['within_db']:g} dB):")
        for line in probes["lines"]:
            console.print(f"  {line}", markup=False, highlight=False)
    head, rows = rows_text(record)
    table = Table(
        title="predicted -> verified (report.html says on what each figure was obtained)", title_justify="left"
    )
    for col in head[:4]:
        table.add_column(col)
    for row in rows:
        table.add_row(*row[:4])
    console.print(table)
    for line in headline(record):
        console.print(line.replace("**", ""), markup=False, highlight=False)


@click.command("verify")
@click.argument("run", type=click.Path(file_okay=False, exists=True))
@steps_option
@loss_option
@rounds_option
@seed_option
@click.option(
    "--clock",
    type=click.Choice(["wall", "cpu"]),
    help="Timing clock (default: the profile's); `cpu` (this process's CPU time, 1 thread) still measures "
    "the work when other jobs take the cores.",
)
@within_option
@probes_option
@accelerator_option
def verify_cmd(
    run: str,
    steps: int,
    loss: str,
    rounds: int,
    seed: int,
    accelerator: str = "auto",
    clock: str | None = None,
    within: float | None = None,
    probes: int = 4,
) -> None:
    """Verify the pick RUN/export holds: fine-tune it, score teacher and pick on the whole test split,
    time both exported ONNX files, and write RUN/verify/verify.json. A pick with w8a8 or w8a16 slots
    is fine-tuned quantization-aware (those slots round while it trains) and scored as its QDQ graph.
    With --verify-within, first find the fastest front network within that drop once fine-tuned, and
    verify it instead."""
    from archc.runtime.pipeline import Context, VerifySettings, verify

    tuned = VerifySettings(steps, loss, rounds, seed, clock, within, probes)
    print_table(verify(Path(run), tuned, Context(accelerator)))
    console.print(f"wrote {Path(run) / 'verify' / 'verify.json'}")
