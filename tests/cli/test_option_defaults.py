"""The command line states its defaults literally (so `--help` needs no torch import); they must be
the library's own, or a run from Python and the same run from the shell would differ."""

from __future__ import annotations

from typing import Any

import attrs
import click

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


def _mismatches(options: dict[str, Any], library: dict[str, Any], names: dict[str, str]) -> list[str]:
    return [
        f"--{option.replace('_', '-')}: {options[option]!r} vs {field}={library[field]!r}"
        for option, field in names.items()
        if option in options and not _same(options[option], library[field])
    ]


def test_distill_options_default_to_the_distill_config() -> None:
    options, library = _defaults("distill"), _field_defaults(DistillConfig)
    shared = {name: name for name in options if name in library}
    assert {"iters", "fraction", "lr", "batch", "crop"} <= shared.keys()
    assert not _mismatches(options, library, shared)


def test_run_options_default_to_the_run_settings() -> None:
    options, settings = _defaults("run"), _field_defaults(RunSettings)
    shared = {name: name for name in options if name in settings}
    assert {"distill_iters", "distill_fraction", "size", "jobs"} <= shared.keys()
    assert not _mismatches(options, settings, shared)
    verify = _field_defaults(VerifySettings)  # --verify-steps and the like are `steps`, ...; --seed is the run's
    by_name = {name: name for name in verify if name in options and name != "seed"}
    assert {"steps", "rounds", "probes"} <= by_name.keys()
    assert not _mismatches(options, verify, by_name)


def test_verify_options_default_to_the_verify_settings() -> None:
    options, verify = _defaults("verify"), _field_defaults(VerifySettings)
    shared = {name: name for name in options if name in verify}
    assert {"steps", "rounds", "probes", "loss"} <= shared.keys()
    assert not _mismatches(options, verify, shared)
