"""The verify stage on a micro run searched with `--precision w8a8`: `archc run --precision`
reaches the search and the export, a hand pick exports its mixed QDQ graph, and `verify` fine-tunes
the pick, scores teacher, pick and QDQ graph on the whole test split, times the exported files in
ONNX Runtime and writes the "predicted -> verified" table into verify.json and the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
from click.testing import CliRunner

from archc.cli import cli
from archc.runtime.data.datasets import open_dataset
from archc.runtime.evaluation.evaluate import evaluate
from archc.runtime.verify import FinetuneSettings, VerifySettings, verify

HAND = "enc1=dsconv;enc2=naf;dec2=naf(sca=off);dec1=naf"


def test_run_precision_reaches_search_and_export(run_dir: Path) -> None:
    search = json.loads((run_dir / "search" / "search.json").read_text())
    assert "precision *: w8a8" in search["spec_text"]
    assert all(set(e["precisions"].values()) <= {"fp16", "w8a8"} for e in search["evaluations"])
    exp = json.loads((run_dir / "export" / "export.json").read_text())
    assert exp["precisions"] == search["evaluations"][exp["index"]]["precisions"]
    assert ("qdq" in exp) == ("w8a8" in exp["precisions"].values())
    log = json.loads((run_dir / "run.json").read_text())
    assert log["verify"]["status"] == "complete" and log["verify"]["latency_label"] == "measured"


def test_a_hand_pick_exports_its_mixed_qdq_graph(run_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "export",
            str(run_dir),  # the whole run's folder: the hand pick's latency comes from its block tables
            "--choice",
            HAND,
            "--precisions",
            "*=w8a8",
            "--out",
            str(tmp_path / "export"),
        ],
    )
    assert res.exit_code == 0, res.output
    exp = json.loads((tmp_path / "export" / "export.json").read_text())
    assert exp["precisions"] == dict.fromkeys(("enc1", "enc2", "dec2", "dec1"), "w8a8")
    assert exp["canonical"].startswith("enc1=dsconv@w8a8;") and exp["objectives"]["latency_ms"] > 0
    qdq = onnx.load(exp["qdq"]["path"])
    assert sum(n.op_type == "QuantizeLinear" for n in qdq.graph.node) > 0 and exp["qdq"]["quantized_nodes"] > 0


def test_verify_writes_the_predicted_to_verified_table(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "r"
    shutil.copytree(run_dir, run)
    shutil.rmtree(run / "export")
    shutil.rmtree(run / "verify")
    res = CliRunner().invoke(
        cli,
        [
            "export",
            str(run / "search"),
            "--choice",
            HAND,
            "--precisions",
            "enc1=w8a8;dec1=w8a8",
            "--out",
            str(run / "export"),
        ],
    )
    assert res.exit_code == 0, res.output
    record = verify(run, VerifySettings(FinetuneSettings(steps=3, loss="teacher"), rounds=4))
    assert json.loads((run / "verify" / "verify.json").read_text()) == json.loads(json.dumps(record))
    # measured latencies of the three exported files, at the profiled size
    lat = record["latency"]
    assert lat["label"] == "measured" and lat["input"] == [1, 3, 32, 32]
    assert set(lat["networks"]) == {"teacher", "pick", "pick_qdq"}
    assert all(f["latency_ms"] > 0 and f["iqr_ms"] >= 0 for f in lat["networks"].values())
    # PSNRs on the whole test split, against an independent scoring of the teacher
    search = json.loads((run / "search" / "search.json").read_text())
    import archc

    teacher = archc.build(archc.parse(search["spec_text"]), None, search["teacher"])
    ref = evaluate(teacher, open_dataset(search["data"], split="test"))
    scores = record["scores"]
    assert scores["teacher"]["psnr"] == pytest.approx(ref.mean("psnr"), abs=1e-6)
    assert f"{len(ref.images)} whole frames" in scores["teacher"]["on"] and scores["teacher"]["label"] == "measured"
    assert set(scores) == {"teacher", "before", "after", "qdq", "fake_quant"}
    assert record["drops"]["after"]["psnr_drop"] == pytest.approx(ref.mean("psnr") - scores["after"]["psnr"], abs=1e-9)
    assert record["finetune"]["loss"] == "teacher" and "distillation" in record["finetune"]["loss_text"]
    # fine-tuned with its w8a8 slots rounding; the weights it kept are plain float weights: a second
    # verification reads them back into the network instead of training again
    assert record["finetune"]["quantization_aware"] and record["finetune"]["in_precision"]
    again = verify(run, VerifySettings(FinetuneSettings(steps=3, loss="teacher"), rounds=4))
    assert again["finetune"]["trained_before"] and again["scores"]["after"] == record["scores"]["after"]
    # the table: each quantity predicted and verified, labelled, with the error of the prediction
    rows = {r["quantity"]: r for r in record["table"]}
    assert rows["pick latency, as shipped"]["verified on"].startswith("measured: ONNX Runtime")
    assert rows["pick latency, as shipped"]["predicted on"].startswith("predicted:")
    assert rows["teacher latency"]["error of the prediction"].endswith("%")
    assert "±" in rows["PSNR drop vs teacher, as shipped"]["verified"]
    assert "fake-quantized -> ONNX Runtime" in " ".join(rows)
    # the report shows the table, and its headline the verified figures
    res = CliRunner().invoke(cli, ["report", str(run)])
    assert res.exit_code == 0, res.output
    md = (run / "report.md").read_text()
    headline = md.split("## Spec")[0]
    assert "Verified: `" in headline and "**measured**" in headline and "whole frames" in headline
    assert "quantization-aware" in headline
    assert "## Predicted -> verified" in md and "| quantity | predicted | verified |" in md
