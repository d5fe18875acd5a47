"""The `archc` command line. Each command lives in its own module; user errors exit 1 with a
rendered diagnostic and never a traceback (`--debug` shows one)."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

import click

from archc.errors import ArchError, ArchWarning

from . import commands


class _Group(commands.LazyGroup):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ArchError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(exc.render(), err=True)
            ctx.exit(1)


class _ShowWarning:
    """archc's own warnings as one `warning: ...` line on stderr (no source line, no path); any
    other warning the way Python shows it."""

    def __init__(self, default: Any) -> None:
        self.default = default

    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, ArchWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            self.default(message, category, filename, lineno, file, line)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks for user errors too.")
@click.option("--plugin", "--grammar-ext", "plugins", multiple=True, type=click.Path(),
              help="A Python file that registers extra block kinds (repeatable).")
@click.version_option(package_name="archc")
@click.pass_context
def cli(ctx: click.Context, debug: bool, plugins: Sequence[str]) -> None:
    """archc: compile .arch specs of image-restoration U-Nets into PyTorch and ONNX,
    and search them for networks that run fast on a target device."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if not isinstance(warnings.showwarning, _ShowWarning):
        warnings.showwarning = _ShowWarning(warnings.showwarning)
    if plugins:
        from archc.compiler.blocks import load_plugins

        try:
            load_plugins(plugins)
        except ArchError as exc:
            if debug:
                raise
            click.echo(exc.render(), err=True)
            ctx.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="archc")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
