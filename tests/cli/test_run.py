"""`archc run` end to end on a tiny budget: every stage, resume, failure naming, the report in a
real headless browser with its headline and every image loaded. The seconds-long teacher does not
deblur, so the run goes on only with --allow-weak-teacher (tests/cli/test_teacher_guard.py checks
the refusal)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli

from helpers import SPECS

QUICK = ["--train-minutes", "0.03", "--distill-iters", "4", "--budget", "5", "--size", "32", "32",
         "--jobs", "1", "--val-images", "2", "--allow-weak-teacher", "--verify-steps", "2", "--verify-rounds", "3"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, micro_data: Path) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    data = micro_data
    res = CliRunner().invoke(cli, ["run", str(SPECS / "nafnet_tiny.arch"), "--data", str(data), "--out", str(out),
                                   *QUICK])
    assert res.exit_code == 0, res.output
    return out


def test_every_stage_leaves_its_results(run_dir: Path) -> None:
    for rel in ("teacher/weights.safetensors", "saliency/saliency.json", "profile/latency.json",
                "distill/distill.json", "search/search.json", "export/export.json", "verify/verify.json",
                "report.html", "report.md"):
        assert (run_dir / rel).is_file(), rel
    log = json.loads((run_dir / "run.json").read_text())
    assert {k for k, v in log.items() if v["status"] == "complete"} >= {"teacher", "saliency", "profile", "distill",
                                                                         "search", "export", "verify", "report"}
    exported = json.loads((run_dir / "export" / "export.json").read_text())
    assert exported["reproduced_psnr"] == pytest.approx(exported["reported_psnr"], abs=1e-6)


def test_rerun_skips_finished_stages(run_dir: Path) -> None:
    data = json.loads((run_dir / "search" / "search.json").read_text())["data"]
    res = CliRunner().invoke(cli, ["run", str(SPECS / "nafnet_tiny.arch"), "--data", data, "--out", str(run_dir),
                                   *QUICK])
    assert res.exit_code == 0, res.output
    assert "search: done already" in res.output and "distill: done already" in res.output


def test_a_failing_stage_is_named_and_earlier_results_kept(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    shutil.copytree(run_dir, out)
    shutil.rmtree(out / "search")
    shutil.rmtree(out / "export")
    shutil.rmtree(out / "distill" / "surrogates")  # distill.json stays: the search is the first to miss them
    data = json.loads((run_dir / "search" / "search.json").read_text())["data"]
    res = CliRunner().invoke(cli, ["run", str(SPECS / "nafnet_tiny.arch"), "--data", data,
                                   "--weights", str(run_dir / "teacher" / "weights.safetensors"), "--out", str(out),
                                   *QUICK])
    assert res.exit_code == 1
    assert "stage `search` failed" in res.output and "resume with: archc run" in res.output
    assert (out / "distill" / "distill.json").is_file()


def test_the_report_opens_with_the_headline_labelled_crops_and_the_front(run_dir: Path) -> None:
    md = (run_dir / "report.md").read_text()
    assert md.index("## Headline") < md.index("![Before / after") < md.index("![Pareto front") < md.index("\n| ")
    for phrase in ("Device `cpu`: latencies **measured**", "Chosen network (knee)", "Speed-up", "PSNR drop",
                   "Teacher:", "for the blurred input"):
        assert phrase in md.split("## Spec")[0], phrase
    crops = json.loads((run_dir / "export" / "crops.json").read_text())
    assert crops["columns"] == ["blurred", "teacher", "found network", "sharp"]
    assert crops["crops"] and all(set(c["psnr"]) == {"blurred", "teacher", "found network"} for c in crops["crops"])
    search = json.loads((run_dir / "search" / "search.json").read_text())
    assert search["teacher_check"]["images"] == 2 and isinstance(search["beats_teacher"], dict)
    log = json.loads((run_dir / "run.json").read_text())
    assert log["teacher check"]["status"] == "complete" and "gain_db" in log["teacher check"]


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("ARCHC_REQUIRE_BROWSER"),
                    reason="no headless Chromium here (CI installs it)")
def test_report_renders_in_a_headless_browser_with_every_image(run_dir: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None, "ARCHC_REQUIRE_BROWSER is set but no Chromium is installed"
    html = (run_dir / "report.html").read_text()
    assert "http://" not in html and "https://" not in html  # self-contained
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
         (run_dir / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    loaded = dom.split('data-images-loaded="', 1)[1].split('"', 1)[0]
    done, total = (int(x) for x in loaded.split("/"))
    assert total >= 4 and done == total  # crops and front in the headline, saliency, hypervolume
    headline = dom.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    for phrase in ("Device", "latencies", "measured", "Chosen network", "Speed-up", "PSNR drop", "Teacher:",
                   "blurred input"):
        assert phrase in headline, phrase
    assert headline.count("<img") == 2 and "Before / after" in headline and "Pareto front" in headline
    assert dom.index('id="headline"') < dom.index("<table")
    for title in ("Saliency", "Surrogates", "Latency", "Search", "Exported network"):
        assert f"<h2>{title}" in dom


def test_stage_settings_reach_their_stages(run_dir: Path, tmp_path: Path) -> None:
    """--saliency-metrics / --no-ablate / --distill-fraction / --distill-iters decide what the redone
    stages compute (the finished ones are skipped)."""
    redo = tmp_path / "r"
    shutil.copytree(run_dir, redo)
    for stage in ("saliency", "distill", "search", "export"):
        shutil.rmtree(redo / stage)
    data = json.loads((run_dir / "search" / "search.json").read_text())["data"]
    res = CliRunner().invoke(cli, ["run", str(SPECS / "nafnet_tiny.arch"), "--data", data,
                                   "--out", str(redo), *QUICK, "--saliency-batches", "1", "--saliency-metrics",
                                   "snip,taylor", "--no-ablate", "--distill-fraction", "0.5"])
    assert res.exit_code == 0, res.output
    saliency = json.loads((redo / "saliency" / "saliency.json").read_text())
    assert list(saliency["metrics"]) == ["snip", "taylor"] and saliency["ablation"] is None
    config = json.loads((redo / "distill" / "distill.json").read_text())["config"]
    assert config["fraction"] == 0.5 and config["iters"] == 4
    assert (redo / "report.html").is_file()
    verified = json.loads((redo / "verify" / "verify.json").read_text())  # redone for the new export
    exported = json.loads((redo / "export" / "export.json").read_text())
    assert verified["network"]["canonical"] == exported["canonical"]
    assert (redo / "verify" / "verify.json").stat().st_mtime > (redo / "export" / "export.json").stat().st_mtime


def test_verify_times_and_scores_the_exported_pick(run_dir: Path) -> None:
    verified = json.loads((run_dir / "verify" / "verify.json").read_text())
    assert verified["latency"]["label"] == "measured" and verified["input_size"] == [32, 32]
    assert all(f["latency_ms"] > 0 for f in verified["latency"]["networks"].values())
    assert verified["finetune"]["steps"] == 2 and verified["scores"]["teacher"]["label"] == "measured"
    md = (run_dir / "report.md").read_text()
    assert "Verified: `" in md.split("## Spec")[0] and "## Predicted -> verified" in md
