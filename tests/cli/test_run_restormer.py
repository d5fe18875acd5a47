"""`archc run` on a micro Restormer, searched on the transformer-count proxy (the profile stage on the
modelled s24, which times nothing): every stage through export completes, and the proxy's
figures are labelled as a count, never as milliseconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archc.cli import cli

MICRO = Path(__file__).resolve().parents[1] / "fixtures" / "restormer" / "restormer_micro.arch"
QUICK = [
    "--train-minutes",
    "0.02",
    "--distill-iters",
    "2",
    "--budget",
    "4",
    "--size",
    "32",
    "32",
    "--jobs",
    "1",
    "--val-images",
    "2",
    "--no-ablate",
    "--saliency-batches",
    "1",
    "--saliency-metrics",
    "grad_norm",
    "--allow-weak-teacher",
    "--verify-steps",
    "2",
    "--verify-rounds",
    "3",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, micro_data: Path) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    res = CliRunner().invoke(
        cli,
        [
            "run",
            str(MICRO),
            "--data",
            str(micro_data),
            "--out",
            str(out),
            "--latency-proxy",
            "transformer-count",
            "--device",
            "s24",
            *QUICK,
        ],
    )
    assert res.exit_code == 0, res.output
    return out


def test_a_micro_restormer_run_completes_through_export(run_dir: Path) -> None:
    for rel in (
        "profile/latency.json",
        "distill/distill.json",
        "search/search.json",
        "export/export.json",
        "report.md",
    ):
        assert (run_dir / rel).is_file(), rel
    exported = json.loads((run_dir / "export" / "export.json").read_text())
    assert Path(exported["onnx"]["path"]).is_file()
    assert exported["reproduced_psnr"] == pytest.approx(exported["reported_psnr"], abs=1e-6)


def test_the_proxy_is_labelled_a_count_everywhere(run_dir: Path) -> None:
    search = json.loads((run_dir / "search" / "search.json").read_text())
    assert search["latency_proxy"] == "transformer-count" and "proxy" in search["latency_source"]
    assert search["baseline"]["objectives"]["latency_ms"] == 9  # 8 searched + 1 excluded Restormer blocks
    assert all(float(e["objectives"]["latency_ms"]).is_integer() for e in search["evaluations"])
    md = (run_dir / "report.md").read_text()
    assert "transformer blocks (proxy, not ms)" in md and "a proxy, not a latency" in md
    exported = Path(json.loads((run_dir / "export" / "export.json").read_text())["spec"]).read_text()
    assert "(proxy, not ms)" in exported
