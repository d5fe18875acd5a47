"""The command line states its defaults literally (so `--help` needs no torch import); they must be
the library's own, or a run from Python and the same run from the shell would differ."""

from __future__ import annotations

from typing import Any

import attrs
import click
import pytest

from archc.cli import cli
from archc.runtime.distill import DistillConfig
from archc.runtime.pipeline import RunSettings, VerifySettings

NO_DEFAULT = click.Option(["--x"]).default  # what click holds for an option without a default
CONTEXT = {"accelerator", "amp"}  # resolved by every command's context (`auto`: a GPU when there is one)


def _defaults(command: str) -> dict[str, Any]:
    assert isinstance(cli, click.Group)
    found = cli.get_command(click.Context(cli), command)  # the commands load on demand
    assert found is not None, command
    return {
        p.name: None if p.default is NO_DEFAULT else p.default
        for p in found.params
        if p.name and p.name not in CONTEXT and not callable(p.default)
    }


def _field_defaults(cls: type) -> dict[str, Any]:
    return {
        f.name: f.default
        for f in attrs.fields(cls)
        if f.default is not attrs.NOTHING and not isinstance(f.default, attrs.Factory)  # type: ignore[arg-type]
    }


def _same(cli_default: Any, library_default: Any) -> bool:
    if isinstance(library_default, tuple) and isinstance(cli_default, str):  # a comma-separated list
        return tuple(cli_default.split(",")) == library_default
    if isinstance(library_default, tuple) and isinstance(cli_default, list | tuple):
        return tuple(cli_default) == library_default
    return bool(cli_default == library_default)


def _mismatches(options: dict[str, Any], library: dict[str, Any], names: set[str]) -> list[str]:
    return [
        f"--{name.replace('_', '-')}: {options[name]!r} vs {name}={library[name]!r}"
        for name in sorted(names)
        if not _same(options[name], library[name])
    ]


# (command, the library class its options mirror, options that must be among them, same-named
# options that belong to another class: `archc run`'s --seed is the run's, not the verification's)
CASES = [
    ("distill", DistillConfig, {"iters", "fraction", "lr", "batch", "crop"}, set()),
    ("run", RunSettings, {"distill_iters", "distill_fraction", "size", "jobs"}, set()),
    ("run", VerifySettings, {"steps", "rounds", "probes"}, {"seed"}),  # --verify-steps is `steps`, ...
    ("verify", VerifySettings, {"steps", "rounds", "probes", "loss"}, set()),
]


@pytest.mark.parametrize(("command", "library", "expected", "not_its"), CASES)
def test_command_line_defaults_are_the_librarys(
    command: str, library: type, expected: set[str], not_its: set[str]
) -> None:
    options, defaults = _defaults(command), _field_defaults(library)
    shared = {name for name in options if name in defaults and name not in not_its}
    assert expected <= shared
    assert not _mismatches(options, defaults, shared)
