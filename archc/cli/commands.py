"""The table of commands: each module under archc/cli/ exposes one click command or group."""

from __future__ import annotations

import importlib

import click

# module name -> attribute holding the command
COMMANDS: dict[str, str | tuple[str, ...]] = {
    "compile": "compile_cmd",
    "fmt": "fmt_cmd",
    "blocks": "blocks_cmd",
    "train": ("train_cmd", "eval_cmd", "deblur_cmd"),
    "data": "data_cmd",
    "search": ("search_cmd", "export_cmd"),
    "profile": "profile_cmd",
    "devices": "devices_cmd",
    "calibrate": "calibrate_cmd",
    "saliency": "saliency_cmd",
    "explain": "explain_cmd",
    "distill": "distill_cmd",
    "finetune": "finetune_cmd",
    "run": "run_cmd",
    "report": "report_cmd",
}


def register(group: click.Group) -> None:
    for module, attrs in COMMANDS.items():
        mod = importlib.import_module(f"archc.cli.{module}")
        for attr in (attrs,) if isinstance(attrs, str) else attrs:
            group.add_command(getattr(mod, attr))
