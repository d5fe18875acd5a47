"""Option types shared by several commands."""

from __future__ import annotations

from typing import Any

import click

from archc.compiler.pretrained import PREFIX, resolve


class WeightsFile(click.ParamType):
    """A weights file, or `pretrained:NAME` for one that ships with archc (turned into its path here,
    so every stage, worker and record downstream sees a plain file)."""

    name = "FILE|pretrained:NAME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if text.startswith(PREFIX):
            return str(resolve(text))  # an unknown name is WeightsError E0405, rendered like any other
        if text.endswith(("/", "\\")):
            self.fail(f"{text} is a folder; expected a weights file or `{PREFIX}NAME`", param, ctx)
        return text


WEIGHTS = WeightsFile()
