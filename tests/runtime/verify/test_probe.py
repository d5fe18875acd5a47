"""Finding the fastest front network within a drop once fine-tuned: the bisection against exhaustive
enumeration of every monotone outcome, and `verify --verify-within` on a micro run (real fine-tuning,
real scoring, real export)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli
from archc.runtime.verify import FinetuneSettings, VerifySettings, verify
from archc.runtime.verify.probe import bisect, fastest_holding, front_order, known_probes


@pytest.mark.parametrize("n", range(0, 10))
def test_bisection_finds_the_last_holding_position_of_every_monotone_front(n: int) -> None:
    enough = n.bit_length()  # ceil(log2(n + 1)) probes tell n + 1 outcomes apart
    for last in range(-1, n):  # positions 0..last hold, the rest fail
        asked: list[int] = []

        def holds(position: int, last: int = last, asked: list[int] = asked) -> bool:
            asked.append(position)
            return position <= last

        found, probed = fastest_holding(n, holds, enough)
        assert found == last and probed == asked and len(set(probed)) == len(probed) <= enough
        short, _ = fastest_holding(n, holds, 1)
        assert short <= last  # fewer probes: never a network that fails


@pytest.mark.parametrize("n", range(1, 9))
def test_known_outcomes_narrow_the_bisection_to_what_is_still_open(n: int) -> None:
    for last in range(-1, n):
        for seen in range(n):  # one outcome known before any probe, every position in turn
            asked: list[int] = []

            def holds(position: int, last: int = last, asked: list[int] = asked) -> bool:
                asked.append(position)
                return position <= last

            found, probed = fastest_holding(n, holds, n, {seen: seen <= last})
            assert found == last and seen not in probed
            open_side = range(seen + 1, n) if seen <= last else range(seen)  # where the answer can still be
            assert all(p in open_side for p in probed) and len(probed) <= len(open_side).bit_length()


def test_the_front_is_probed_from_the_teacher_outwards_without_the_teacher() -> None:
    evaluations = [
        {"canonical": "a=x", "objectives": {"latency_ms": 10.0}},
        {"canonical": "a=y", "objectives": {"latency_ms": 4.0}},
        {"canonical": "a=z", "objectives": {"latency_ms": 7.0}},
    ]
    results = {"evaluations": evaluations, "pareto": [1, 0, 2], "baseline": {"canonical": "a=x"}}
    assert front_order(results) == [2, 1]


@pytest.fixture(scope="module")
def probed(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    run = tmp_path_factory.mktemp("probe") / "r"
    shutil.copytree(run_dir, run)
    shutil.rmtree(run / "verify")
    tune = FinetuneSettings(steps=2)
    return run, verify(run, VerifySettings(tune, rounds=3, within=1e6, probes=2))


def test_verify_within_keeps_the_fastest_network_that_holds(probed: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    run, record = probed
    search = json.loads((run / "search" / "search.json").read_text())
    order = front_order(search)
    made = record["probes"]["made"]
    # every network holds a target of 1e6 dB: the bisection walks to the fastest in two probes or fewer
    assert len(made) <= 2 and all(p["holds"] for p in made)
    # the micro run searched w8a8: a probe with a quantized slot is scored as its QDQ graph
    assert all(p["quantized"] == ("@w8a8" in p["canonical"]) for p in made)
    if len(order) <= 3:
        assert record["probes"]["chosen"] == order[-1]
    exported = json.loads((run / "export" / "export.json").read_text())
    assert exported["canonical"] == search["evaluations"][record["probes"]["chosen"]]["canonical"]
    assert record["network"]["canonical"] == exported["canonical"]
    # the probe's fine-tuned weights are the verify stage's, read back, not trained again
    assert record["finetune"]["trained_before"] is True
    last = next(p for p in made if p["index"] == record["probes"]["chosen"])
    # scored as the verification scores what ships: the QDQ graph in ONNX Runtime when the search
    # chose w8a8 for a slot (the micro teacher trains for seconds of wall time, so which network is
    # kept varies)
    as_scored = "qdq" if last["quantized"] else "after"
    assert last["drop"] == pytest.approx(record["drops"][as_scored]["psnr_drop"], abs=1e-9)
    assert json.loads((run / "verify" / "probes.json").read_text())["chosen"] == record["probes"]["chosen"]
    res = CliRunner().invoke(cli, ["report", str(run)])
    assert res.exit_code == 0, res.output
    md = (run / "report.md").read_text()
    assert "| probe | network | predicted drop dB |" in md and f"({record['probes']['chosen']}) |" in md


def test_a_second_bisection_reuses_what_the_first_fine_tuned(probed: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    run, record = probed
    first = {p["index"]: p for p in record["probes"]["made"]}
    chosen, made = bisect(run, 1e6, 2, FinetuneSettings(steps=2))
    assert chosen == record["probes"]["chosen"]
    fresh = [p for p in made if not p.reused]
    # every probe of the first bisection (and the pick it verified) comes back scored, nothing twice
    assert set(first) <= {p.index for p in made} and len({p.index for p in made}) == len(made)
    assert not fresh or all(p.index not in first for p in fresh)
    for p in made:
        if p.index in first:
            assert p.reused and p.drop == pytest.approx(first[p.index]["drop"])
    # other fine-tuning settings: nothing is reused
    _, other = bisect(run, 1e6, 1, FinetuneSettings(steps=3))
    assert not any(p.reused for p in other)


def test_results_older_than_the_search_are_not_reused(probed: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    run, _ = probed
    searched = run / "search" / "search.json"
    results = json.loads(searched.read_text())
    assert known_probes(run, results, FinetuneSettings(steps=2))  # written after the search: reusable
    stat = searched.stat()
    try:
        os.utime(searched, (stat.st_atime, time.time() + 60))  # the search ran again after them
        assert known_probes(run, results, FinetuneSettings(steps=2)) == []
    finally:
        os.utime(searched, (stat.st_atime, stat.st_mtime))


def test_a_target_nothing_holds_verifies_the_runs_own_pick(probed: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    run, _ = probed
    chosen, made = bisect(run, -1e6, 2, FinetuneSettings(steps=2))
    assert chosen is None and len(made) >= 1 and not any(p.holds for p in made)


def test_the_command_line_prints_the_probes(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "r"
    shutil.copytree(run_dir, run)
    args = ["verify", str(run), "--verify-steps", "1", "--verify-rounds", "2", "--verify-within", "1e6"]
    res = CliRunner().invoke(cli, [*args, "--verify-probes", "1"])
    assert res.exit_code == 0, res.output
    assert "probes of the front" in res.output and "within 1e+06 dB" in res.output
    res = CliRunner().invoke(cli, [*args, "--verify-probes", "0"])
    assert res.exit_code == 2 and "--verify-probes" in res.output
