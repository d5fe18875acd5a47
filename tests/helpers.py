"""Paths and loaders shared by the tests (imported as `helpers`; tests/ is on sys.path)."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nafnet"
SPECS = ROOT / "specs"

Compare = Callable[[nn.Module, nn.Module], float]  # largest output difference of two networks (passes)


def rewritten(model: nn.Module, run: Callable[[nn.Module], nn.Module]) -> nn.Module:
    """`run` applied to a copy of `model` (a pass must not be tested on the network it rewrites)."""
    return run(copy.deepcopy(model)).eval()


def fresh_python(code: str, timeout: float = 600) -> list[str]:
    """The words `code` printed, run by this interpreter in a fresh process: the suite's own
    processes keep the threads and state of earlier tests. A failing `code` fails the test with
    the end of its stderr."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def fixture(name: str) -> object:
    return torch.load(FIXTURES / name, weights_only=True)


FAMILIES = Path(__file__).resolve().parent / "fixtures" / "unet_families"


class FamilyFixture:
    """The reference tensors of one official network in fixtures/unet_families (`baseline_tiny`,
    `restormer_tiny`): its state_dict, input and outputs, and its entry of reference.json."""

    def __init__(self, name: str) -> None:
        import json

        self.name = name
        self.ref: dict[str, object] = json.loads((FAMILIES / "reference.json").read_text())[name]

    def _load(self, part: str) -> object:
        return torch.load(FAMILIES / f"{self.name}_{part}.pt", weights_only=True)

    def state(self) -> dict[str, torch.Tensor]:
        state = self._load("state")
        assert isinstance(state, dict)
        return state

    def tensor(self, part: str) -> torch.Tensor:
        t = self._load(part)
        assert isinstance(t, torch.Tensor)
        return t


def synth_data(out: Path, images: int = 4, crops: int = 2, test_crops: int = 2, crop: int = 128) -> Path:
    """`archc data synth` into `out` (seed 0): the small synthetic sets the command-line tests train on."""
    from click.testing import CliRunner

    from archc.cli import cli

    args = ["data", "synth", "--out", str(out), "--images", str(images), "--crops-per-image", str(crops)]
    args += ["--test-crops-per-image", str(test_crops), "--crop", str(crop)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    return out


def quick_run(train_iters: str = "4", distill_iters: str = "4", budget: str = "4") -> list[str]:
    """The `archc run` flags that make a micro run take seconds and come out the same on any
    machine: a teacher trained a few steps (not minutes: the run's results would follow the
    machine's speed), 32x32 profiling, one job, two validation crops, a weak teacher allowed, two
    verification steps and three timing rounds."""
    return [
        *("--train-iters", train_iters, "--distill-iters", distill_iters, "--budget", budget),
        *("--size", "32", "32", "--jobs", "1", "--val-images", "2", "--allow-weak-teacher"),
        *("--verify-steps", "2", "--verify-rounds", "3"),
    ]


LIGHT_SALIENCY = ["--no-ablate", "--saliency-batches", "1", "--saliency-metrics", "grad_norm"]
