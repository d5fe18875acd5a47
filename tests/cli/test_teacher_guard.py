"""`run`, `saliency`, `distill` and `search` refuse a teacher that does not beat the blurred input by
0.1 dB (exit 1, both PSNRs named, no traceback) before any expensive work; --allow-weak-teacher
lets it through. (tests/conftest.py allows weak teachers for the other tests; these unset that.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import archc
from archc.cli import cli
from archc.runtime.data.datasets import open_dataset
from archc.runtime.evaluation.guard import measure

from distill_helpers import write_data, write_spec, write_teacher
from guard_helpers import write_identity_teacher

VAL = ["--val-images", "2"]  # every command then checks on the same two 128 px centre crops
DISTILL = ["--iters", "2", "--batch", "2", "--crop", "16", "--crops-per-image", "1", "--fraction", "0.5",
           "--threads", "1"]


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHC_ALLOW_WEAK_TEACHER", raising=False)


@pytest.fixture(scope="module")
def micro(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("guard_cli")
    spec = write_spec(root)
    return {"root": root, "spec": spec, "data": write_data(root / "data"),
            "identity": write_identity_teacher(spec, root / "identity.safetensors"),
            "random": write_teacher(spec, root / "random.safetensors")}


def _cli(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _command(name: str, m: dict[str, Path], weights: Path, out: Path) -> list[object]:
    common = [m["spec"], "--weights", weights, "--data", m["data"], "--out", out]
    return {"saliency": ["saliency", *common, "--batches", "1", "--batch", "2", "--crop", "16", "--val-crop", "128",
                         "--metrics", "grad_norm", *VAL],
            "distill": ["distill", *common, *DISTILL, *VAL],
            "search": ["search", *common, "--surrogates", out / "bank", "--device", "s24", "--size", "16", "16",
                       "--budget", "3", "--strategy", "random", "--crop", "128", *VAL],
            "run": ["run", *common, "--device", "s24", "--size", "16", "16", "--budget", "3", "--distill-iters", "2",
                    "--jobs", "1", *VAL]}[name]


@pytest.mark.parametrize("name", ["run", "saliency", "distill", "search"])
def test_a_teacher_returning_its_input_is_refused_with_both_psnrs(name: str, micro: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    check = measure(archc.build(micro["spec"], weights=micro["identity"]), open_dataset(micro["data"]), 2, 128)
    res = _cli(*_command(name, micro, micro["identity"], tmp_path / "out"))
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    text = " ".join(res.output.split())  # rich wraps long lines
    assert "error[E1801]: the teacher does not restore" in text
    assert f"{check.teacher_psnr:.3f} dB against {check.input_psnr:.3f} dB for the blurred input" in text
    assert "+0.000 dB" in text or "-0.000 dB" in text
    assert "--allow-weak-teacher" in text
    produced = {p.name for p in (tmp_path / "out").rglob("*")} if (tmp_path / "out").exists() else set()
    assert not produced & {"saliency.json", "distill.json", "search.json", "latency.json", "manifest.json"}
    if name == "run":
        assert "stage `teacher check` failed" in text


def test_the_flag_lets_a_weak_teacher_through_every_command(micro: dict[str, Path], tmp_path: Path) -> None:
    weak = measure(archc.build(micro["spec"], weights=micro["random"]), open_dataset(micro["data"]), 2, 128)
    assert not weak.passed  # random residual scales do not deblur
    out = tmp_path / "out"
    for name in ("saliency", "distill"):
        res = _cli(*_command(name, micro, micro["random"], out / name), "--allow-weak-teacher")
        assert res.exit_code == 0, res.output
        assert "the teacher does not restore, going on (--allow-weak-teacher)" in " ".join(res.output.split())
    search = [a if a != out / "search" / "bank" else out / "distill" / "surrogates"
              for a in _command("search", micro, micro["random"], out / "search")]
    res = _cli(*search, "--allow-weak-teacher")
    assert res.exit_code == 0, res.output
    import json

    results = json.loads((out / "search" / "search.json").read_text())
    assert results["teacher_check"]["passed"] is False and "beats_teacher" in results
