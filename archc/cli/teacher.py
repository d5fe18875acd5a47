"""The flag of the teacher check the commands that build on a teacher run first (`runtime.evaluation.guard`)."""

from __future__ import annotations

import click

ENV = "ARCHC_ALLOW_WEAK_TEACHER"

allow_weak_teacher_option = click.option(
    "--allow-weak-teacher", is_flag=True, envvar=ENV,
    help="Go on when the teacher beats the blurred validation input by less than 0.1 dB "
         f"(or set {ENV}=1).")
