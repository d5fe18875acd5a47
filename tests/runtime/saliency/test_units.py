"""Blocks and slots by module name, and their parameter and MAC baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import archc
from archc.compiler.counts import count
from archc.runtime.saliency.aggregate import ranks, unit_value
from archc.runtime.saliency.units import block_units, slot_units, unit_macs, unit_params

from helpers import SPECS
from saliency_nets import SEARCHED

NAF_CONVS = ("conv1", "conv2", "conv3", "sca.1", "conv4", "conv5")


def _meta_model(spec):  # type: ignore[no-untyped-def]
    with torch.device("meta"):
        return archc.build(spec)


def test_blocks_map_to_module_names_without_prefix_clashes() -> None:
    spec = archc.parse(SPECS / "nafnet_gopro.arch")
    model = _meta_model(spec)
    units = {u.name: u for u in block_units(spec, model)}
    assert len(units) == 36
    assert units["enc4[1]"].modules == ("encoders.3.1",)
    assert units["mid[0]"].modules == ("middle_blks.0",)
    assert units["dec1[0]"].modules == ("decoders.3.0",)
    layers = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    held = {n for n in layers if units["enc4[1]"].holds(n)}
    assert held == {f"encoders.3.1.{c}" for c in NAF_CONVS}  # not encoders.3.10 ... encoders.3.19
    # every conv is in exactly one block, except the stem, head, downs and ups
    outside = {n for n in layers if not any(u.holds(n) for u in units.values())}
    assert outside == {"intro", "ending", *(f"downs.{i}" for i in range(4)), *(f"ups.{i}.0" for i in range(4))}


def test_block_aggregation_sums_the_layers_under_the_block() -> None:
    spec = archc.parse(SPECS / "nafnet_gopro.arch")
    units = {u.name: u for u in block_units(spec, _meta_model(spec))}
    rng = np.random.default_rng(0)
    names = [f"encoders.3.{b}.{c}" for b in range(28) for c in NAF_CONVS] + ["intro", "downs.3"]
    values = {n: rng.random(3) for n in names}
    expected = np.mean(sum(values[f"encoders.3.17.{c}"] for c in NAF_CONVS))
    assert unit_value(values, units["enc4[17]"], "sum") == pytest.approx(expected)
    squared = np.mean(sum(values[f"encoders.3.17.{c}"] for c in NAF_CONVS) ** 2)
    assert unit_value(values, units["enc4[17]"], "sum_squared") == pytest.approx(squared)
    assert unit_value(values, units["enc1[0]"], "sum") == 0.0  # holds none of the names


def test_slots_cover_their_block_ranges() -> None:
    spec = archc.parse(SEARCHED)
    model = _meta_model(spec)
    slots = {u.name: u for u in slot_units(spec, model)}
    assert list(slots) == ["e1", "e2[0:1]", "e2[1:2]", "m", "d2", "d1"]  # fixed d2 included, network order
    assert slots["e2[1:2]"].modules == ("encoders.1.1",)
    assert slots["d2"].modules == ("decoders.0.0",)
    # a spec without a search part: every stage is a slot
    gopro = archc.parse(SPECS / "nafnet_gopro.arch")
    whole = {u.name: u for u in slot_units(archc.parse(gopro.text.split("search over")[0]), _meta_model(gopro))}
    assert whole["enc4"].modules == tuple(f"encoders.3.{i}" for i in range(28))


@pytest.mark.parametrize("size", [(256, 256), (40, 56)])
def test_params_and_macs_add_up_to_the_stage_counts(size: tuple[int, int]) -> None:
    spec = archc.parse(SPECS / "nafnet_tiny.arch")
    model = archc.build(spec)
    counts = {c.name: c for c in count(archc.compile_ir(spec), size).stages}
    blocks = block_units(spec, model)
    for stage in spec.stages:
        mine = [u for u in blocks if u.stage == stage.name]
        assert sum(unit_params(model, u) for u in mine) == counts[stage.name].params
        assert sum(unit_macs(spec, u, size) for u in mine) == counts[stage.name].macs


def test_ranks_are_normalised_and_leave_nan_unranked() -> None:
    assert ranks([3.0, 1.0, float("nan"), 2.0, float("inf")]) == pytest.approx(
        [0.75, 0.25, float("nan"), 0.5, 1.0], nan_ok=True
    )
    assert ranks([1.0, 1.0]) == [0.75, 0.75]
