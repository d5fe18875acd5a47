"""--accelerator, --amp and the memory check as a user meets them on the command line (CPU only here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from archc.cli import cli

from helpers import SPECS, synth_data

TINY = str(SPECS / "nafnet_tiny.arch")

# width 1024 and stages of 134 to 200 `naf` blocks: 125 billion parameters, 466 GB of weights
HUGE = """arch huge {
    channels in 3 out 3
    width 1024
    stem conv3x3 ; head conv3x3
    down conv2x2 ; up pixelshuffle ; skip add ; residual global
    encoder enc1: naf x200
    encoder enc2: naf x200
    encoder enc3: naf x200
    middle mid: naf x134
    decoder dec3: naf x200
    decoder dec2: naf x200
    decoder dec1: naf x200
}
"""


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHC_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("ARCHC_MEMORY_CHECK", raising=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_data(tmp_path_factory.mktemp("data") / "synth", crops=1, test_crops=1, crop=48)


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args), env=env)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout, res.stderr


def test_a_network_too_large_for_memory_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    spec, out = tmp_path / "huge.arch", tmp_path / "out"
    spec.write_text(HUGE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHC_MEMORY")}
    proc = subprocess.run(
        [sys.executable, "-m", "archc.cli", "compile", str(spec), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "error[E1521]: exporting to ONNX needs about" in proc.stderr
    assert "weights 466.0 GB" in proc.stderr and f"{spec}:1:1" in proc.stderr and "help:" in proc.stderr
    assert "125,087,618,051" in proc.stdout  # the counts are still shown
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_without_cuda_names_what_was_found(data: Path, tmp_path: Path) -> None:
    code, _, err = _invoke(
        "train", TINY, "--data", str(data), "--out", str(tmp_path / "t"), "--iters", "1", "--accelerator", "cuda"
    )
    assert code == 1 and "Traceback" not in err
    assert f"CUDA was asked for but torch {torch.__version__} has no CUDA; found: cpu" in err
    assert not (tmp_path / "t").exists()


def test_train_records_accelerator_and_amp_and_eval_runs_there(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "t"
    code, _, err = _invoke(
        "train",
        TINY,
        "--data",
        str(data),
        "--out",
        str(out),
        "--iters",
        "2",
        "--batch",
        "2",
        "--crop",
        "32",
        "--accelerator",
        "cpu",
        "--amp",
        "bf16",
    )
    assert code == 0, err
    record = json.loads((out / "train.json").read_text())
    assert record["accelerator"] == "cpu" and record["amp"] == "bf16" and record["accelerator_name"]
    assert record["config"]["amp"] == "bf16" and record["steps"] == 2
    code, stdout, err = _invoke(
        "eval",
        TINY,
        "--weights",
        str(out / "weights.safetensors"),
        "--data",
        str(data),
        "--limit",
        "1",
        "--json",
        "--accelerator",
        "auto",
    )
    assert code == 0, err
    scores = json.loads(stdout)
    assert scores[0]["accelerator"] == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert scores[0]["amp"] == "off"  # evaluation in float32
    code, _, err = _invoke(
        "saliency",
        TINY,
        "--weights",
        str(out / "weights.safetensors"),
        "--data",
        str(data),
        "--out",
        str(tmp_path / "s"),
        "--batches",
        "1",
        "--batch",
        "1",
        "--crop",
        "32",
        "--metrics",
        "grad_norm",
        "--accelerator",
        "cpu",
        env={"ARCHC_ALLOW_WEAK_TEACHER": "1"},  # two training steps do not make a deblurring teacher
    )
    assert code == 0, err
    assert json.loads((tmp_path / "s" / "saliency.json").read_text())["accelerator"] == "cpu"


def test_a_batch_too_large_is_refused_with_a_hint(data: Path, tmp_path: Path) -> None:
    code, _, err = _invoke(
        "train",
        TINY,
        "--data",
        str(data),
        "--out",
        str(tmp_path / "t"),
        "--iters",
        "1",
        "--batch",
        "64",
        "--crop",
        "256",
        "--accelerator",
        "cpu",
        env={"ARCHC_MEMORY_LIMIT": "100M"},
    )
    assert code == 1 and "error[E1521]: training needs about" in err and "100.0 MB free (ARCHC_MEMORY_LIMIT)" in err
    assert "a smaller --batch (now 64) or --crop (now 256)" in err
    assert not (tmp_path / "t").exists()


def test_fp16_on_the_cpu_is_refused(data: Path, tmp_path: Path) -> None:
    code, _, err = _invoke(
        "train",
        TINY,
        "--data",
        str(data),
        "--out",
        str(tmp_path / "t"),
        "--iters",
        "1",
        "--accelerator",
        "cpu",
        "--amp",
        "fp16",
    )
    assert code == 1 and "E1506" in err and "--amp bf16" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_run_fails_before_any_stage_without_the_accelerator(tmp_path: Path) -> None:
    code, _, err = _invoke("run", TINY, "--out", str(tmp_path / "r"), "--accelerator", "cuda:1")
    assert code == 1 and "found: cpu" in err and not (tmp_path / "r").exists()
