"""`archc train`: --seed fixes the initial weights and the data, so a rerun gives the same file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from archc.cli import cli

from helpers import SPECS, synth_data


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_data(tmp_path_factory.mktemp("data") / "synth", test_crops=1, crop=64)


def _train(data: Path, out: Path, *extra: str) -> dict[str, torch.Tensor]:
    res = CliRunner().invoke(cli, ["train", str(SPECS / "nafnet_tiny.arch"), "--data", str(data), "--out", str(out),
                                   "--iters", "3", "--batch", "2", "--crop", "32", *extra])
    assert res.exit_code == 0, res.output
    return load_file(out / "weights.safetensors")


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_weights_other_seed_other_weights(data: Path, tmp_path: Path) -> None:
    first = _train(data, tmp_path / "a", "--seed", "3")
    assert _same(_train(data, tmp_path / "b", "--seed", "3"), first)
    assert not _same(_train(data, tmp_path / "c", "--seed", "4"), first)


def test_recipe_options_reach_the_run_record(data: Path, tmp_path: Path) -> None:
    _train(data, tmp_path / "r", "--lr", "2e-3", "--warmup", "0.2", "--ema", "0.99")
    config = json.loads((tmp_path / "r" / "train.json").read_text())["config"]
    assert (config["lr"], config["warmup"], config["ema"], config["batch"], config["crop"]) == (2e-3, 0.2, 0.99, 2, 32)


def test_eval_and_deblur_take_the_self_ensemble(data: Path, tmp_path: Path) -> None:
    _train(data, tmp_path / "t", "--seed", "1")
    weights = str(tmp_path / "t" / "weights.safetensors")
    spec = str(SPECS / "nafnet_tiny.arch")
    rows = {}
    for flag in ([], ["--self-ensemble"]):
        res = CliRunner().invoke(cli, ["eval", spec, "--weights", weights, "--data", str(data), "--json", *flag])
        assert res.exit_code == 0, res.output
        rows[bool(flag)] = json.loads(res.output)[0]
    assert rows[True]["self_ensemble"] and not rows[False]["self_ensemble"]
    assert rows[True]["psnr"] != rows[False]["psnr"] and rows[True]["input_psnr"] == rows[False]["input_psnr"]
    blurred = next((data / "test").rglob("blur/*.png"))
    res = CliRunner().invoke(cli, ["deblur", spec, str(blurred), "--weights", weights, "--out", str(tmp_path / "o"),
                                   "--self-ensemble"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / blurred.name).is_file()
