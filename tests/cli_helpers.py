"""What the command-line tests share: every click command of the command line, by module."""

from __future__ import annotations

import importlib

import click

from archc.cli.commands import COMMANDS


def commands() -> list[tuple[str, click.Command]]:
    """(MODULE.ATTR, command) for every command each module of `COMMANDS` defines itself."""
    found: list[tuple[str, click.Command]] = []
    for module_name in COMMANDS:
        module = importlib.import_module(f"archc.cli.{module_name}")
        for name, value in vars(module).items():
            callback = getattr(value, "callback", None)
            if isinstance(value, click.Command) and callback is not None and callback.__module__ == module.__name__:
                found.append((f"{module_name}.{name}", value))
    return found
