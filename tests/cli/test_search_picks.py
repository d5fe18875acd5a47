"""`archc search` from the distill stage's plug-in report (and without one, with the note), and
`archc export --pick drop<=X | speedup>=X` on the micro space."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from archc.runtime.search.journal import Journal

from distill_helpers import FAST, config_flags, run_cli, write_data, write_spec, write_teacher


class Micro:
    def __init__(self, root: Path) -> None:
        self.spec = write_spec(root)
        self.data = write_data(root / "data", test=4)
        self.teacher = write_teacher(self.spec, root / "teacher.safetensors")


def _search(m: Micro, surrogates: Path, out: Path, *extra: object) -> str:
    res = run_cli(
        "search",
        m.spec,
        "--weights",
        m.teacher,
        "--surrogates",
        surrogates,
        "--data",
        m.data,
        "--device",
        "s24",
        "--size",
        32,
        32,
        "--budget",
        7,
        "--val-images",
        3,
        "--crop",
        16,
        "--out",
        out,
        "--allow-weak-teacher",
        *extra,
    )
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def micro(tmp_path_factory: pytest.TempPathFactory) -> Micro:
    root = tmp_path_factory.mktemp("micro")
    m = Micro(root)
    res = run_cli(
        "distill",
        m.spec,
        "--weights",
        m.teacher,
        "--data",
        m.data,
        "--out",
        root / "distill",
        *config_flags(FAST),
        "--val-images",
        3,
        "--allow-weak-teacher",
    )
    assert res.exit_code == 0, res.output
    return m


@pytest.fixture(scope="module")
def searched(micro: Micro, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("search") / "s"
    return out, _search(micro, micro.spec.parent / "distill" / "surrogates", out)


def _results(out: Path) -> dict[str, Any]:
    return json.loads((out / "search.json").read_text())


def test_the_search_starts_from_the_plugin_report(searched: tuple[Path, str], micro: Micro) -> None:
    out, output = searched
    r = _results(out)
    report = json.loads((micro.spec.parent / "distill" / "distill.json").read_text())
    plug = {(s["slot"], s["candidate"]): s["plug_in_drop"] for s in report["surrogates"]}
    assert r["initial_design"]["additive_prediction"] and r["initial_design"]["notes"] == []
    assert "additive prediction from" in output and "additive dB" in output
    origins = [e["origin"] for e in r["evaluations"]]
    assert origins[0] == "initial-teacher" and set(origins[1:5]) == {"initial-additive"}
    for e in r["evaluations"]:  # the prediction beside each network is the sum of its plug-in drops
        expected = sum(plug[(slot, block)] for slot, block in e["choice"].items() if block != "naf")
        assert e["additive"]["psnr_drop"] == pytest.approx(expected)
        assert e["additive"]["latency_ms"] == pytest.approx(e["objectives"]["latency_ms"])
    assert "best speed-up within" in output


def test_without_a_plugin_report_the_search_falls_back_with_a_note(micro: Micro, tmp_path: Path) -> None:
    bank = tmp_path / "bank" / "surrogates"
    shutil.copytree(micro.spec.parent / "distill" / "surrogates", bank)  # no distill.json beside it
    output = _search(micro, bank, tmp_path / "s")
    assert "note: no additive prediction (no plug-in report" in " ".join(output.split())
    r = _results(tmp_path / "s")
    assert Journal(tmp_path / "s" / "journal.jsonl").notes() == r["initial_design"]["notes"]
    assert {e["origin"] for e in r["evaluations"][1:6]} == {"initial-random"}  # n_init: 2 x 3 slots


def test_export_picks_the_best_speedup_within_a_drop(searched: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = searched
    evals = _results(out)["evaluations"]
    limit = sorted(e["objectives"]["psnr_drop"] for e in evals)[len(evals) // 2]
    res = run_cli("export", out, "--pick", f"drop<={limit}", "--out", tmp_path / "e", "--accelerator", "cpu")
    assert res.exit_code == 0, res.output
    exported = json.loads((tmp_path / "e" / "export.json").read_text())
    best = min(
        (e["objectives"]["latency_ms"], e["objectives"]["psnr_drop"], i)
        for i, e in enumerate(evals)
        if e["objectives"]["psnr_drop"] <= limit
    )
    assert exported["index"] == best[2] and exported["pick"] == f"drop<={limit}"
    assert Path(exported["spec"]).name.startswith("micro_drop_le_")


def test_a_pick_no_network_satisfies_is_a_user_error(searched: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = searched
    res = run_cli("export", out, "--pick", "speedup>=1000", "--out", tmp_path / "e")
    assert res.exit_code == 1
    assert "no evaluated network is 1000x faster" in res.output and "the fastest found is #" in res.output
    assert not (tmp_path / "e" / "export.json").exists()


def test_run_refuses_a_malformed_pick_before_any_stage(micro: Micro, tmp_path: Path) -> None:
    res = run_cli(
        "run",
        micro.spec,
        "--data",
        micro.data,
        "--weights",
        micro.teacher,
        "--out",
        tmp_path / "r",
        "--pick",
        "drop<=abc",
    )
    assert res.exit_code == 1 and "cannot read `abc`" in res.output
    assert not (tmp_path / "r" / "run.json").exists()


def test_export_takes_the_folder_of_a_whole_run(searched: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = searched
    shutil.copytree(out, tmp_path / "run" / "search")  # `archc run` keeps its search in RUN/search
    res = run_cli("export", tmp_path / "run", "--pick", "fastest", "--out", tmp_path / "e", "--accelerator", "cpu")
    assert res.exit_code == 0, res.output
    fastest = min(range(len(evals := _results(out)["evaluations"])), key=lambda i: evals[i]["objectives"]["latency_ms"])
    assert json.loads((tmp_path / "e" / "export.json").read_text())["index"] == fastest
