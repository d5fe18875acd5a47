"""The micro run the verify tests share: nafnet_tiny searched with `--precision w8a8` (read only:
tests copy it before they change it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli

from helpers import SPECS

QUICK = [
    "--train-minutes",
    "0.03",
    "--distill-iters",
    "4",
    "--budget",
    "4",
    "--size",
    "32",
    "32",
    "--jobs",
    "1",
    "--val-images",
    "2",
    "--allow-weak-teacher",
    "--no-ablate",
    "--saliency-batches",
    "1",
    "--saliency-metrics",
    "grad_norm",
    "--verify-steps",
    "2",
    "--verify-rounds",
    "3",
]


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory, micro_data: Path) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    res = CliRunner().invoke(
        cli,
        ["run", str(SPECS / "nafnet_tiny.arch"), "--data", str(micro_data), "--out", str(out)]
        + ["--precision", "w8a8", *QUICK],
    )
    assert res.exit_code == 0, res.output
    return out
