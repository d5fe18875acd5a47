"""Shared by the tests of archc.runtime.profile (a uniquely named module: tests/ has no packages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archc.cli import cli
from archc.cli.calibrate import calibrate_cmd
from archc.cli.devices import devices_cmd
from archc.cli.profile import profile_cmd
from archc.runtime.profile import run as run_mod
from archc.runtime.profile.backend import Profiler
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.measure import Protocol
from archc.runtime.profile.run import Request, execute

ROOT = Path(__file__).resolve().parents[3]
TINY = ROOT / "specs" / "nafnet_tiny.arch"
GOPRO = ROOT / "specs" / "nafnet_gopro.arch"
FAST = Protocol(threads=1, warmup=1, min_repeats=3, max_repeats=5, time_cap_s=0.2)
FAST_FLAGS = ["--warmup", "1", "--repeats", "3", "--max-repeats", "5", "--time-cap", "0.2"]

# The commands are registered in archc/cli/commands.py by the CLI's owner; until then add them here.
for _cmd in (profile_cmd, devices_cmd, calibrate_cmd):
    if _cmd.name not in cli.commands:
        cli.add_command(_cmd)


def run_cli(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


class ModelledStandIn(Profiler):
    """A stand-in device over the s24 cost model (`self.inner`); subclasses change what it reports."""

    kind = "modelled"

    def __init__(self) -> None:
        self.inner = resolve("s24")


def execute_on(profiler: Profiler, req: Request) -> dict[str, Any]:
    """Run `req` with `profiler` in place of the device it names; returns its latency.json data."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run_mod, "resolve", lambda *a: profiler)
        record, _ = execute(req)
    return record.data
