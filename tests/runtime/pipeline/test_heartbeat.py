"""Long stages print a progress line every 30 s when stdout is not a terminal (here: a short interval)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from archc.runtime.pipeline import heartbeat
from archc.runtime.pipeline.heartbeat import Heartbeat

from distill_helpers import run_cli, write_data, write_spec, write_teacher


def test_a_heartbeat_repeats_the_latest_status_until_the_block_ends() -> None:
    lines: list[str] = []
    two = threading.Event()

    def emit(line: str) -> None:
        lines.append(line)
        if len(lines) >= 2:
            two.set()

    with Heartbeat("distill", interval=0.01, force=True, emit=emit) as beat:
        beat.update("3/12 surrogates")
        assert two.wait(60)
    count = len(lines)
    assert re.fullmatch(r"distill \d+ s: (started|3/12 surrogates)", lines[0])
    assert lines[-1].endswith(": 3/12 surrogates")
    assert not beat._thread.is_alive() and len(lines) == count  # type: ignore[union-attr]


def test_a_heartbeat_is_silent_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heartbeat.console, "_force_terminal", True)  # rich: is_terminal reads it first
    assert not Heartbeat("search").active
    assert Heartbeat("search", force=True).active


def test_distillation_prints_progress_lines_while_it_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heartbeat, "INTERVAL_S", 0.05)
    spec = write_spec(tmp_path)
    res = run_cli("distill", spec, "--weights", write_teacher(spec, tmp_path / "t.safetensors"), "--data",
                  write_data(tmp_path / "data"), "--out", tmp_path / "run", "--iters", "20", "--batch", "2", "--crop",
                  "16", "--crops-per-image", "1", "--fraction", "0.5", "--threads", "1", "--val-images", "1")
    assert res.exit_code == 0, res.output
    assert re.search(r"^distill \d+ s: \d+/9 surrogates; last: ", res.output, re.M), res.output
