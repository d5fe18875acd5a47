"""The bank: its manifest round-trips, and `archc.build(..., surrogates=...)` plugs surrogates in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

import archc
from archc.compiler.blocks import get as get_block
from archc.compiler.weights import load_state
from archc.runtime.distill import DistillError, DistillRun, load_bank
from archc.runtime.distill.bank import MANIFEST, manifest_json
from archc.runtime.distill.fit import FEATURE_LOSS

from distill_helpers import Micro, write_teacher


def test_manifest_round_trips(micro_run: DistillRun) -> None:
    bank = load_bank(micro_run.bank.root)
    assert bank == micro_run.bank
    on_disk = json.loads((bank.root / MANIFEST).read_text())
    assert manifest_json(bank, FEATURE_LOSS) == on_disk
    entry = bank.get("enc2", "naf(sca=off)")
    assert entry is not None
    fields = {
        k: on_disk["entries"][bank.entries.index(entry)][k]
        for k in ("slot", "candidate", "kind", "params", "channels", "steps", "data_fraction", "seed", "teacher_sha256")
    }
    assert fields == {
        "slot": "enc2",
        "candidate": "naf(sca=off)",
        "kind": "naf",
        "params": {"dw_expand": 2, "ffn_expand": 2, "sca": False},
        "channels": 8,
        "steps": 12,
        "data_fraction": 0.5,
        "seed": 0,
        "teacher_sha256": bank.teacher_sha256,
    }
    assert bank.get("enc1", "identity").file is None and bank.get("enc1", "naf") is None  # type: ignore[union-attr]
    assert len(bank.entries) == 9


def test_build_loads_the_surrogates(micro: Micro, micro_run: DistillRun) -> None:
    bank = micro_run.bank
    model = archc.build(micro.spec, {"enc2": "dsconv", "dec1": "identity"}, micro.teacher, surrogates=bank.root)
    surrogate = load_state(bank.root / bank.get("enc2", "dsconv").file)  # type: ignore[operator, union-attr]
    got = {k[len("encoders.1.") :]: v for k, v in model.state_dict().items() if k.startswith("encoders.1.")}
    assert got.keys() == surrogate.keys() and all(torch.equal(got[k], surrogate[k]) for k in got)
    teacher = load_state(micro.teacher)
    for key, value in model.state_dict().items():
        if not key.startswith(("encoders.1.", "decoders.1.")):
            assert torch.equal(value, teacher[key]), key


def _stage_io(model: Any, x: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [
        model.stage_module(name).register_forward_hook(lambda m, a, y, n=name: seen.__setitem__(n, (a[0], y)))
        for name in ("enc1", "enc2", "mid", "dec2", "dec1")
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


def test_plugging_changes_only_the_slot_and_what_follows(micro: Micro, micro_run: DistillRun) -> None:
    bank = micro_run.bank
    teacher = archc.build(micro.spec, weights=micro.teacher).eval()
    plugged = archc.build(micro.spec, {"enc2": "naf(sca=off)"}, micro.teacher, surrogates=bank.root).eval()
    x = torch.rand(2, 3, 16, 16)
    a, b = _stage_io(teacher, x), _stage_io(plugged, x)
    assert torch.equal(a["enc1"][1], b["enc1"][1]) and torch.equal(a["enc2"][0], b["enc2"][0])
    # the slot's output is the bank's blocks applied to the teacher's slot input (an independent rebuild)
    defn = get_block("naf")
    reference = torch.nn.Sequential(*(defn.build(defn.params(sca=False), 8) for _ in range(2))).eval()
    reference.load_state_dict(load_state(bank.root / bank.get("enc2", "naf(sca=off)").file))  # type: ignore[operator, union-attr]
    with torch.no_grad():
        assert torch.allclose(b["enc2"][1], reference(a["enc2"][0]), atol=1e-6)
    assert not torch.equal(a["enc2"][1], b["enc2"][1]) and not torch.equal(a["dec1"][1], b["dec1"][1])


def test_the_original_needs_no_surrogate(micro: Micro, micro_run: DistillRun) -> None:
    plain = archc.build(micro.spec, weights=micro.teacher)
    same = archc.build(micro.spec, {"enc1": "naf"}, micro.teacher, surrogates=micro_run.bank.root)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), same.state_dict().values(), strict=True))


def test_a_choice_missing_from_the_bank_is_named(micro: Micro, micro_run: DistillRun, tmp_path: Path) -> None:
    data = json.loads((micro_run.bank.root / MANIFEST).read_text())
    data["entries"] = [e for e in data["entries"] if e["slot"] != "dec1"]
    (tmp_path / MANIFEST).write_text(json.dumps(data))
    with pytest.raises(DistillError, match=r"no surrogate for `dec1=dsconv`") as err:
        archc.build(micro.spec, {"dec1": "dsconv"}, micro.teacher, surrogates=tmp_path)
    assert err.value.diagnostics[0].code == "E1103"


def test_surrogates_need_their_teacher(micro: Micro, micro_run: DistillRun, tmp_path: Path) -> None:
    root = micro_run.bank.root
    with pytest.raises(DistillError, match="give its weights") as err:
        archc.build(micro.spec, {"enc1": "dsconv"}, surrogates=root)
    assert err.value.diagnostics[0].code == "E1106"
    other = write_teacher(micro.spec, tmp_path / "other.safetensors", seed=1)
    with pytest.raises(DistillError, match="another teacher") as err:
        archc.build(micro.spec, {"enc1": "dsconv"}, other, surrogates=root)
    assert err.value.diagnostics[0].code == "E1105"
    with pytest.raises(DistillError, match="cannot read surrogate bank") as err:
        archc.build(micro.spec, {"enc1": "dsconv"}, micro.teacher, surrogates=tmp_path)
    assert err.value.diagnostics[0].code == "E1104"
