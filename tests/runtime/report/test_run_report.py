"""The run report from constructed run files: the headline first (device, measured or modelled, the
chosen network, speed-up, PSNR drop, the teacher against the blurred input), the crops and the
Pareto plot before any table, long tables folded, networks that beat the teacher flagged with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from archc.runtime.report.run_report import FOLD_ROWS, sections, to_html, to_markdown, write


def _ev(i: int, drop: float, ms: float) -> dict[str, object]:
    return {"canonical": f"net{i}", "indices": [i], "objectives": {"psnr_drop": drop, "latency_ms": ms,
                                                                    "psnr": 30.0 - drop, "ssim": 0.9},
            "seconds": 0.1, "strategy": "random", "order": i}


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (200, 10, 10)).save(path)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    evals = [_ev(0, 0.0, 20.0), *(_ev(i, 0.05 * i, 20.0 - i) for i in range(1, FOLD_ROWS + 3)),
             {**_ev(FOLD_ROWS + 3, -0.4, 15.0)}]
    search = {"spec": "x.arch", "spec_text": "arch x {}", "device": "s24", "latency_source": "modelled",
              "strategy": "random", "space": {"size": 4096, "excluded": []}, "evaluations": evals,
              "pareto": list(range(len(evals))), "reference_point": {"psnr_drop": 1.0, "latency_ms": 20.0},
              "hypervolume_trace": [0.1 * i for i in range(len(evals))], "knee": FOLD_ROWS + 3,
              "baseline": evals[0], "teacher_psnr": 30.0,
              "teacher_check": {"teacher_psnr": 30.0, "input_psnr": 28.5, "gain_db": 1.5, "images": 8, "crop": 128,
                                "min_gain_db": 0.1, "passed": True},
              "beats_teacher": {str(FOLD_ROWS + 3): {"gain_db": 0.4, "noise_db": 0.1,
                                                      "reason": "scores 0.400 dB above the teacher, more than the "
                                                                "validation noise"}}}
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "search.json").write_text(json.dumps(search))
    _png(tmp_path / "search" / "front.png")
    _png(tmp_path / "export" / "crops.png")
    (tmp_path / "export" / "crops.json").write_text(json.dumps({"mean_psnr": {"blurred": 28.5, "teacher": 30.0,
                                                                              "found network": 30.4}}))
    exp = {"pick": "knee", "index": FOLD_ROWS + 3, "canonical": f"net{FOLD_ROWS + 3}", "spec": "missing.arch",
           "objectives": evals[-1]["objectives"], "reproduced_psnr": 30.4, "reported_psnr": 30.4}
    (tmp_path / "export" / "export.json").write_text(json.dumps(exp))
    return tmp_path


def test_the_headline_comes_first_and_says_what_was_found(run: Path) -> None:
    head = sections(run)[0]
    assert head.key == "headline"
    text = " ".join(head.bullets)
    assert "Device `s24`: latencies **modelled**" in text
    assert f"Chosen network (knee): `net{FOLD_ROWS + 3}`" in text
    assert "Speed-up **1.33x** (20.000 ms to 15.000 ms, modelled)" in text
    assert "PSNR drop **-0.400 dB**" in text
    assert "Teacher: **30.00 dB** against 28.50 dB for the blurred input (**+1.50 dB**)" in text
    assert "**Warning:** the chosen network scores 0.400 dB above the teacher" in text
    assert [cap.split(":")[0] for cap, _ in head.images] == ["Before / after", "Pareto front"]
    assert "found network 30.40 dB" in head.images[0][0]


def test_figures_come_before_tables_and_long_tables_fold(run: Path) -> None:
    page = to_html("r", sections(run))
    assert page.index("<section id='headline'>") < page.index("<img") < page.index("<table")
    assert page.index("Pareto front") < page.index("<table")
    assert "<details><summary>" in page and "<strong>modelled</strong>" in page
    md = to_markdown("r", sections(run), run)
    assert md.index("## Headline") < md.index("![Before / after") < md.index("| # |")
    assert "<details><summary>" in md


def test_a_network_that_beats_the_teacher_is_flagged_in_the_search_table(run: Path) -> None:
    search = next(s for s in sections(run) if s.title == "Search")
    head, rows = search.tables[0]
    assert head[-1] == "note"
    notes = {r[0]: r[-1] for r in rows}
    assert notes[str(FOLD_ROWS + 3)] == "beats the teacher by 0.400 dB (noise 0.100 dB)"
    assert notes["1"] == ""
    assert any("1 of" in t and "networks beat the teacher" in t and "standard error" in t for t in search.text)


def test_a_weak_teacher_is_called_out_in_the_headline(run: Path) -> None:
    search = json.loads((run / "search" / "search.json").read_text())
    search["teacher_check"] |= {"teacher_psnr": 28.45, "gain_db": -0.05, "passed": False}
    (run / "search" / "search.json").write_text(json.dumps(search))
    write(run, "r")
    assert "the teacher does not restore" in (run / "report.html").read_text()
