"""The options every torch command shares: where it runs (`--accelerator`), in what precision
(`--amp`) and with how many data-loading processes (`--workers`). `--device` stays the latency
target of `profile`, `search` and `run`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

ACCELERATOR_HELP = "Where torch runs: auto (CUDA when available, else the CPU), cpu, cuda, cuda:N or mps."
AMP_MODES = ("off", "bf16", "fp16")  # runtime.training.amp.MODES, repeated so that --help needs no torch
AMP_HELP = "Mixed precision of the training steps: bf16 (CUDA or CPU), fp16 (CUDA, with loss scaling) or off."


def accelerator_option(fn: F) -> F:
    return click.option("--accelerator", default="auto", show_default=True, help=ACCELERATOR_HELP)(fn)


def amp_option(fn: F) -> F:
    return click.option("--amp", type=click.Choice(AMP_MODES), default="off", show_default=True, help=AMP_HELP)(fn)


def workers_option(fn: F) -> F:
    return click.option(
        "--workers",
        type=click.IntRange(0),
        default=None,
        help="Data-loading processes (default: none on the CPU, up to 4 on a GPU).",
    )(fn)


def place(model: Any, accelerator: str, graph: Any = None) -> Any:
    """Resolve `accelerator`, move `model` there (an out-of-memory is one error); returns the device.

    With the network's IR `graph`, its weights are checked against the device's free memory first."""
    from archc.runtime.accel.accelerator import resolve
    from archc.runtime.accel.memory import SHRINK_NETWORK, out_of_memory_as_error

    device = resolve(accelerator)
    if graph is not None and device.type != "cpu":  # on the CPU the weights are in memory already
        from archc.runtime.accel.memory import check_network_fits

        check_network_fits(graph, device, params=sum(p.numel() for p in model.parameters()))
    with out_of_memory_as_error("moving the network", device, SHRINK_NETWORK + ", or use --accelerator cpu"):
        model.to(device)
    return device
