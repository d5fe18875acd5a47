"""The options several commands share, each declared once: one name, one type, one default and
one help text (a documented per-command default where a stage needs another). A former name of
an option still parses, hidden from --help, so a user's scripts keep working."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from archc.dsl.check import SALIENCY_METRICS

from .accel import accelerator_option, amp_option, workers_option
from .cluster import cluster_option
from .output import console, err_console
from .params import WEIGHTS
from .teacher import allow_weak_teacher_option

F = TypeVar("F", bound=Callable[..., object])

__all__ = [
    "HiddenAlias",
    "accelerator_option",
    "allow_weak_teacher_option",
    "amp_option",
    "choice_option",
    "cluster_option",
    "context",
    "data_option",
    "device_option",
    "format_option",
    "jobs_option",
    "json_option",
    "metrics_option",
    "per_round_option",
    "seed_option",
    "size_option",
    "spec_argument",
    "val_images_option",
    "weights_option",
    "workers_option",
]


class HiddenAlias(click.Option):
    """An option whose `former` names still parse but do not show in --help."""

    def __init__(self, *args: Any, former: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.former = former

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        opts = self.opts
        self.opts = [o for o in opts if o not in self.former]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts


def spec_argument(fn: F) -> F:
    return click.argument("spec", type=click.Path(dir_okay=False))(fn)


def weights_option(required: bool = True, text: str = "The teacher's weights.") -> Callable[[F], F]:
    return click.option("--weights", required=required, type=WEIGHTS, help=text)


def data_option(text: str, required: bool = True) -> Callable[[F], F]:
    return click.option("--data", required=required, type=click.Path(file_okay=False), help=text)


def seed_option(fn: F) -> F:
    return click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")(fn)


def json_option(text: str) -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=text)


def choice_option(fn: F) -> F:
    return click.option("--choice", "choices", multiple=True, help="SLOT=BLOCK (repeatable, or `a=x;b=y`).")(fn)


def device_option(fn: F) -> F:
    return click.option(
        "--device",
        default="cpu",
        show_default=True,
        help="Latency device (`archc devices` lists them): cpu, torch-cpu, s24, adb:SERIAL, ...",
    )(fn)


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    from archc.compiler.mobile import parse_formats

    return parse_formats(value)


def format_option(fn: F) -> F:
    """`--format onnx,pte,tflite`: the network files an export writes (as a tuple of names)."""
    return click.option(
        "--format",
        "formats",
        default="onnx",
        show_default=True,
        callback=_formats,
        metavar="onnx,pte,tflite",
        help="Network files to write: onnx, pte (ExecuTorch with XNNPACK, needs archc[executorch]), "
        "tflite (LiteRT, needs archc[litert]); comma-separated.",
    )(fn)


def size_option(default: tuple[int, int] | None, text: str) -> Callable[[F], F]:
    return click.option("--size", nargs=2, type=int, default=default, show_default=default is not None, help=text)


def val_images_option(default: int, text: str) -> Callable[[F], F]:
    return click.option("--val-images", type=click.IntRange(1), default=default, show_default=True, help=text)


def jobs_option(default: int, text: str) -> Callable[[F], F]:
    return click.option("--jobs", type=click.IntRange(1), default=default, show_default=True, help=text)


def metrics_option(name: str, text: str) -> Callable[[F], F]:
    return click.option(name, "metrics", default=",".join(SALIENCY_METRICS), show_default=True, help=text)


def per_round_option(fn: F) -> F:
    """`--per-round` (formerly `--batch`, which elsewhere is a training batch)."""
    return click.option(
        "--per-round",
        "--batch",
        "per_round",
        cls=HiddenAlias,
        former=("--batch",),
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="Networks the search proposes per round and evaluates in parallel.",
    )(fn)


def context(
    accelerator: str = "auto",
    amp: str = "off",
    cluster: str = "local",
    jobs: int = 1,
    allow_weak_teacher: bool = False,
    as_json: bool = False,
) -> Any:
    """The stages' `Context` on the command line's console, checked before any work (an unknown
    accelerator or cluster, an impossible AMP, a missing Ray). With `as_json` the stages' lines
    and progress go to stderr, so stdout carries the JSON alone."""
    from archc.runtime.pipeline import Context

    ctx = Context(accelerator, amp, cluster, jobs, allow_weak_teacher, console=err_console if as_json else console)
    ctx.check()
    return ctx


def names(text: str) -> tuple[str, ...]:
    """`a,b, c` -> ("a", "b", "c")."""
    return tuple(n.strip() for n in text.split(",") if n.strip())
