"""saliency.json: non-finite scores are null plus a flag, never numbers; the file round-trips."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

import archc
from archc.runtime.saliency import compute_saliency
from archc.runtime.saliency.report import RunInfo, load, to_json, unit_score, write

from saliency_nets import SEARCHED, batches, randomised


def test_nan_scores_are_null_with_a_flag(tmp_path: Path) -> None:
    spec = archc.parse(SEARCHED)
    model = randomised(spec)
    with torch.no_grad():  # overflows float32 in the forward pass: every gradient becomes NaN
        for name, p in model.named_parameters():
            if "conv" in name and name.endswith("weight"):
                p.mul_(1e3)
    result = compute_saliency(spec, model, batches(1), metrics=["grad_norm", "synflow"])
    doc = to_json(spec, result, RunInfo(weights="w", data="d", split="train", seed=0))
    write(tmp_path / "saliency.json", doc)  # allow_nan=False: would raise on a NaN number
    back = load(tmp_path)
    block = back["blocks"][0]
    assert block["scores"]["grad_norm"] == {"sum": None, "per_param": None, "rank": None}
    assert block["nonfinite"] == {"grad_norm.sum": "nan", "grad_norm.per_param": "nan", "grad_norm.rank": "nan"}
    assert math.isnan(unit_score(block, "grad_norm"))
    assert unit_score(block, "synflow") == result.blocks[0].sums["synflow"] > 0  # float64: still finite
    assert any(n.startswith("grad_norm: 6 block(s) with a non-finite score") for n in back["notes"])


def test_the_document_lists_every_unit_and_metric(tmp_path: Path) -> None:
    spec = archc.parse(SEARCHED)
    result = compute_saliency(spec, randomised(spec), batches(2), metrics=["snip", "taylor"])
    doc = json.loads(json.dumps(to_json(spec, result, RunInfo(weights="w", data="d", split="train", seed=3))))
    assert list(doc["metrics"]) == ["snip", "taylor"]
    assert doc["metrics"]["taylor"]["reduce"] == "sum_squared"
    assert [b["name"] for b in doc["blocks"]] == ["e1[0]", "e2[0]", "e2[1]", "m[0]", "d2[0]", "d1[0]"]
    slots = {s["name"]: s for s in doc["slots"]}
    assert slots["d2"]["searchable"] is False and slots["e1"]["searchable"] is True
    assert slots["e2[1:2]"]["modules"] == ["encoders.1.1"]
    assert doc["data"] | {"path": None} == {
        "path": None,
        "split": "train",
        "crop": 16,
        "batches": 2,
        "batch": 2,
        "seed": 3,
        "loss": "psnr",
        "input_size": [16, 16],
    }
    assert doc["ablation"] is None and "drop" not in slots["e1"]
