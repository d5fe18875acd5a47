"""The README's "The method from Python" example runs: its code block, on the micro space (the
tiny spec, a tiny synthetic set, a seconds-long teacher and a few steps per stage). Only sizes and
paths are replaced, and each replaced text must be in the block, so an edit of the README that
this test no longer matches fails here instead of going untested."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from archc.api import Context, DataSettings, data

from helpers import ROOT, SPECS

SECTION = "### The method from Python"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def micro(code: str, run: Path) -> str:
    """The block with the demo's teacher, spec and sizes replaced by the micro space's."""
    swaps = {
        'teacher = "pretrained:nafnet_small"': 'teacher = "runs/py/teacher/weights.safetensors"',
        "weights=teacher,": "train_iters=4, allow_weak_teacher=True, jobs=1, "
        "verification=VerifySettings(steps=2, rounds=3),",
        'Context(accelerator="cpu")': 'Context(accelerator="cpu", allow_weak_teacher=True)',
        "specs/nafnet_small.arch": str(SPECS / "nafnet_tiny.arch"),
        "distill_iters=600": "distill_iters=4",
        "size=(128, 128)": "size=(32, 32)",
        "budget=24": "budget=5",
        "val_images=8": "val_images=2",
        "runs/py": str(run),
    }
    for old, new in swaps.items():
        assert old in code, f"the README's Python example no longer says {old!r}"
        code = code.replace(old, new)
    return code


def test_the_readme_example_runs_the_method_on_the_micro_space(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "py"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHC_ALLOW_WEAK_TEACHER", raising=False)
    data(run, DataSettings(images=4, crops_per_image=2, test_crops_per_image=2, crop=128), Context())
    from archc.api import VerifySettings

    exec(compile(micro(readme_block(), run), "README.md", "exec"), {"VerifySettings": VerifySettings})  # noqa: S102
    out = capsys.readouterr().out
    assert "data: done already" in out and "measured " in out and "random search: " in out
    journal = json.loads((run / "run.json").read_text())
    assert {k for k, v in journal.items() if v.get("status") == "complete"} >= {
        "teacher",
        "teacher check",
        "saliency",
        "profile",
        "distill",
        "search",
        "export",
        "verify",
        "report",
    }
    random = json.loads((run / "search-random" / "search.json").read_text())
    assert random["strategy"] == "random" and len(random["evaluations"]) == 5
    assert not (run / "search-random" / "profile").exists()  # the run's block table was reused
    # one teacher check for the whole run: the warning is printed once, not once per stage
    assert out.count("warning: teacher ") == 2  # the run's, and the separate search's own context
    assert os.path.isfile(run / "report.html")
