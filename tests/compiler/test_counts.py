from __future__ import annotations

import json

import pytest
import torch

import archc
from archc.compiler.counts import count

from helpers import FIXTURES, SPECS
from macs import hook_macs

REF = json.loads((FIXTURES / "reference.json").read_text())


@pytest.mark.parametrize(("spec", "macs"), [("nafnet_gopro.arch", 15_956_027_392), ("nafnet_tiny.arch", None)])
def test_total_macs_at_256(spec: str, macs: int | None) -> None:
    counts = count(archc.compile_ir(SPECS / spec), (256, 256))
    if macs is None:
        macs = REF["models"]["tiny"]["macs_1x3x256x256"]["conv_only_hook_count"]
    assert counts.macs == macs


def test_per_stage_counts_match_reference() -> None:
    counts = count(archc.compile_ir(SPECS / "nafnet_gopro.arch"), (256, 256))
    ref = REF["models"]["gopro_width32"]["per_stage"]
    by_module = {s.module: s for s in counts.stages}
    for row in ref:
        name = row.get("stage") or row.get("name")
        got = by_module[name]
        assert got.params == row["params"], name
        assert got.macs == row.get("conv_macs", row.get("macs")), name


@pytest.mark.parametrize("choice", [None, "enc1=dsconv;mid=identity;dec2=naf(sca=off)", "enc2=mbconv(expand=4)"])
@pytest.mark.parametrize("size", [(64, 64), (37, 45)])
def test_counts_match_hooks_for_any_choice(choice: str | None, size: tuple[int, int]) -> None:
    spec = archc.parse((SPECS / "nafnet_gopro.arch").read_text().replace("width 32", "width 8"))
    g = archc.compile_ir(spec, choice)
    counts = count(g, size)
    model = archc.build(spec, choice)
    assert counts.macs == hook_macs(model, torch.rand(1, 3, *size))
    assert counts.params == sum(p.numel() for p in model.parameters())
