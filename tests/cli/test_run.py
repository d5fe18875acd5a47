"""`archc run` end to end on a tiny budget: every stage, resume, failure naming, the report in a
real headless browser with every image loaded."""

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
         "--jobs", "1", "--val-images", "2"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    data = tmp_path_factory.mktemp("data") / "synth"
    res = CliRunner().invoke(cli, ["data", "synth", "--out", str(data), "--images", "4", "--crops-per-image", "2",
                                   "--test-crops-per-image", "2", "--crop", "128"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["run", str(SPECS / "nafnet_tiny.arch"), "--data", str(data), "--out", str(out),
                                   *QUICK])
    assert res.exit_code == 0, res.output
    return out


def test_every_stage_leaves_its_results(run_dir: Path) -> None:
    for rel in ("teacher/weights.safetensors", "saliency/saliency.json", "profile/latency.json",
                "distill/distill.json", "search/search.json", "export/export.json", "report.html", "report.md"):
        assert (run_dir / rel).is_file(), rel
    log = json.loads((run_dir / "run.json").read_text())
    assert {k for k, v in log.items() if v["status"] == "complete"} >= {"teacher", "saliency", "profile", "distill",
                                                                         "search", "export", "report"}
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
    res = CliRunner().invoke(cli, ["run", str(SPECS / "nafnet_tiny.arch"), "--data", str(tmp_path / "missing"),
                                   "--weights", str(run_dir / "teacher" / "weights.safetensors"), "--out", str(out),
                                   *QUICK])
    assert res.exit_code == 1
    assert "stage `search` failed" in res.output and "resume with: archc run" in res.output
    assert (out / "distill" / "distill.json").is_file()


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
    assert total >= 4 and done == total
    for title in ("Saliency", "Surrogates", "Latency", "Search", "Exported network"):
        assert f"<h2>{title}" in dom
