"""The teacher check the commands that build on a teacher run first (`runtime.evaluation.guard`), and its flag."""

from __future__ import annotations

from typing import Any

import click

from .output import console

ENV = "ARCHC_ALLOW_WEAK_TEACHER"

allow_weak_teacher_option = click.option(
    "--allow-weak-teacher", is_flag=True, envvar=ENV,
    help="Go on when the teacher beats the blurred validation input by less than 0.1 dB "
         f"(or set {ENV}=1).")


def check_teacher(spec: Any, weights: str, data: str, images: int, crop: int | None, allow: bool,
                  accelerator: str = "cpu") -> Any:
    """Score the teacher WEIGHTS and the blurred input on the first `images` test pairs of DATA
    (centre `crop` crops); print the line and return the `TeacherCheck`. Raises WeakTeacherError
    when the teacher gains less than 0.1 dB, unless `allow`."""
    from archc.api import build
    from archc.runtime.accel.accelerator import resolve_here
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.evaluation.guard import ALLOW_FLAG, measure, require

    check = measure(build(spec, None, weights), open_dataset(data, split="test"), images, crop,
                    resolve_here(accelerator))
    if check.passed:
        console.print(check.line())
    elif allow:
        console.print(f"[yellow]warning: {check.line()}; the teacher does not restore, going on "
                      f"({ALLOW_FLAG})[/yellow]")
    return require(check, allow)
