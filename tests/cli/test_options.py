"""The shared options: every option says what it does, and the clearer names keep the former
ones working (hidden from --help) so that scripts written for them do not break."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from archc.cli import cli
from archc.cli.check import check_cmd
from archc.cli.run import run_cmd
from archc.cli.search import search_cmd

from cli_helpers import commands as _commands
from helpers import ROOT, SPECS


def _options(command: click.Command) -> list[click.Option]:
    if isinstance(command, click.Group):
        return [o for sub in command.commands.values() for o in _options(sub)]
    return [p for p in command.params if isinstance(p, click.Option)]


@pytest.mark.parametrize(("name", "command"), _commands(), ids=[n for n, _ in _commands()])
def test_every_option_has_a_help_text(name: str, command: click.Command) -> None:
    assert [o.opts[0] for o in _options(command) if not o.hidden and not o.help] == []


@pytest.mark.parametrize("command", [run_cmd, search_cmd], ids=["run", "search"])
def test_per_round_is_the_name_and_batch_still_parses(command: click.Command) -> None:
    shown = command.get_help(click.Context(command))
    assert "--per-round" in shown and "--batch" not in shown
    args = [str(SPECS / "nafnet_tiny.arch"), "--batch", "3"]
    if command is search_cmd:
        args += ["--weights", "w.safetensors", "--surrogates", "s", "--data", "d", "--out", "o"]
    assert command.make_context(command.name or "", args).params["per_round"] == 3


def test_check_says_json_like_every_other_command() -> None:
    bad = str(ROOT / "tests" / "golden" / "errors" / "several_errors.arch")
    new = CliRunner().invoke(cli, ["check", "--json", bad])
    old = CliRunner().invoke(cli, ["check", "--format", "json", bad])
    assert new.exit_code == old.exit_code == 1
    assert json.loads(new.stdout) == json.loads(old.stdout) and json.loads(new.stdout)[0]["diagnostics"]
    assert "--format" not in check_cmd.get_help(click.Context(check_cmd))
