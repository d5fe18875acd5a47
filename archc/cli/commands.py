"""The table of commands: each module under archc/cli/ exposes one click command or group.

A command's module is imported only when that command runs (or its own `--help` is asked for):
most import torch, and `archc --help`, `archc fmt` and `archc check` must start without it. The
one-line help `archc --help` lists is read from each module's source (the command's docstring or
its `help=` / `short_help=`), so it stays the command's own text without importing it.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
from pathlib import Path

import click
from attrs import frozen

# module name -> attribute holding the command
COMMANDS: dict[str, str | tuple[str, ...]] = {
    "compile": "compile_cmd",
    "check": "check_cmd",
    "fmt": "fmt_cmd",
    "blocks": "blocks_cmd",
    "train": ("train_cmd", "eval_cmd", "deblur_cmd"),
    "data": "data_cmd",
    "search": ("search_cmd", "export_cmd"),
    "profile": "profile_cmd",
    "devices": "devices_cmd",
    "pretrained": "pretrained_cmd",
    "calibrate": "calibrate_cmd",
    "saliency": "saliency_cmd",
    "explain": "explain_cmd",
    "distill": "distill_cmd",
    "finetune": "finetune_cmd",
    "run": "run_cmd",
    "report": "report_cmd",
    "verify": "verify_cmd",
}


@frozen
class Entry:
    """A command as its module's source declares it, before the module is imported."""

    name: str
    module: str
    attr: str
    help: str
    short_help: str | None = None


def _decorator(fn: ast.FunctionDef) -> ast.Call | None:
    """The `@click.command(...)` / `@click.group(...)` (or `@cli.command(...)`) call on `fn`."""
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr in ("command", "group"):
            return dec
    return None


def _keyword(call: ast.Call, key: str) -> str | None:
    for kw in call.keywords:
        if kw.arg == key and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            return kw.value.value
    return None


def _entry(module: str, fn: ast.FunctionDef, call: ast.Call) -> Entry:
    first = call.args[0] if call.args else None
    name = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
    name = name or _keyword(call, "name") or fn.name.removesuffix("_cmd").replace("_", "-")
    text = _keyword(call, "help") or ast.get_docstring(fn) or ""
    return Entry(name, module, fn.name, text.split("\f")[0], _keyword(call, "short_help"))


def _module_entries(module: str, attrs: tuple[str, ...]) -> list[Entry]:
    spec = importlib.util.find_spec(f"archc.cli.{module}")
    if spec is None or spec.origin is None:
        raise RuntimeError(f"archc.cli.{module} is listed in COMMANDS but cannot be found")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found = {
        node.name: _entry(module, node, call)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in attrs and (call := _decorator(node)) is not None
    }
    missing = [a for a in attrs if a not in found]
    if missing:
        raise RuntimeError(f"archc.cli.{module} declares no click command named {', '.join(missing)}")
    return [found[a] for a in attrs]


@functools.cache
def entries() -> dict[str, Entry]:
    """Command name -> where it lives and its help, for every command of the table."""
    out: dict[str, Entry] = {}
    for module, attrs in COMMANDS.items():
        for entry in _module_entries(module, (attrs,) if isinstance(attrs, str) else attrs):
            out[entry.name] = entry
    return out


class LazyGroup(click.Group):
    """A group whose commands import their module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *entries()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in entries():
            entry = entries()[cmd_name]
            self.add_command(getattr(importlib.import_module(f"archc.cli.{entry.module}"), entry.attr), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(name, self._short_help(ctx, name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, ctx: click.Context, name: str, limit: int) -> str:
        if name in self.commands:
            return self.commands[name].get_short_help_str(limit)
        entry = entries()[name]
        # a stand-in command so that the line is shortened exactly as click shortens it
        return click.Command(name, help=entry.help, short_help=entry.short_help).get_short_help_str(limit)
