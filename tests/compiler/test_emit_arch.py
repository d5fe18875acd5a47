from __future__ import annotations

import pytest
import torch

import archc
from archc.compiler.emit_arch import arch_text
from archc.dsl.fmt import format_file

from helpers import SPECS

SLICED = (SPECS / "nafnet_gopro.arch").read_text().replace("width 32", "width 8").replace(
    "exclude enc4", "slots enc1, enc4[0:14], enc4[14:28], dec1")


@pytest.mark.parametrize("choice", [None, "enc1=dsconv;dec1=identity", "enc4[0:14]=identity;enc4[14:28]=naf(sca=off)"])
def test_emitted_spec_rebuilds_the_same_network(choice: str | None) -> None:
    spec = archc.parse(SLICED)
    model = archc.build(spec, choice).eval()
    text = arch_text(archc.compile_ir(spec, choice), name="exported")
    fixed = archc.parse(text)
    assert fixed.search is None
    rebuilt = archc.build(fixed).eval()
    assert [(k, v.shape) for k, v in rebuilt.state_dict().items()] == [
        (k, v.shape) for k, v in model.state_dict().items()]
    rebuilt.load_state_dict(model.state_dict())
    x = torch.rand(1, 3, 33, 40)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), model(x))


def test_multi_run_stage_round_trips_through_fmt() -> None:
    text = "arch t { width 4 encoder e: identity x2 + naf x3 + dsconv middle m: naf decoder d: naf }"
    file, _ = archc.api.parse_file(text)
    assert archc.parse(format_file(file)) == archc.parse(text)
    stage = archc.parse(text).stage("e")
    assert stage.repeat == 6 and [b.canonical for b in stage.blocks()][1:3] == ["identity", "naf"]


def test_slot_across_runs_is_an_error() -> None:
    text = ("arch t { width 4 encoder e: identity x2 + naf x3 middle m: naf decoder d: naf }\n"
            "search over t { slots e[1:4] candidates *: dsconv }")
    with pytest.raises(archc.ArchError) as err:
        archc.parse(text)
    assert "spans blocks of different kinds" in err.value.render()


def test_mixed_stages_are_not_default_slots() -> None:
    text = ("arch t { width 4 encoder e: identity x2 + naf x3 middle m: naf decoder d: naf }\n"
            "search over t { candidates *: dsconv }")
    assert [s.name for s in archc.parse(text).search.slots] == ["m", "d"]  # type: ignore[union-attr]
