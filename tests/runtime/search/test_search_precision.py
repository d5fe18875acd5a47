"""Search over blocks AND precisions: every strategy draws only listed precisions, journals name
them, and the quality objective quantizes the chosen slots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import archc
from archc.compiler.space import SearchSpace
from archc.runtime.data.calibration import calibration_images
from archc.runtime.data.datasets import open_dataset
from archc.runtime.data.synth import synthesize
from archc.runtime.search.bo import BoTorchStrategy
from archc.runtime.search.engine import run_search
from archc.runtime.search.journal import Journal
from archc.runtime.search.nsga2 import NSGA2Strategy
from archc.runtime.search.objectives import QualityEvaluator
from archc.runtime.search.random_search import RandomStrategy
from archc.runtime.search.tpe import TPEStrategy

from helpers import SPECS, fixture

SPEC = """
arch toy { width 4
  encoder e1: naf  encoder e2: naf  middle m: naf  decoder d2: naf  decoder d1: naf }
search over toy { candidates *: naf | dsconv | identity
  precision *: w8a8 | w8a16
  precision m: w8a16 }
"""
SPEED = {"fp16": 1.0, "w8a16": 0.8, "w8a8": 0.4}
NOISE = {"fp16": 0.0, "w8a16": 0.02, "w8a8": 0.3}


def toy(space: SearchSpace):  # type: ignore[no-untyped-def]
    def f(idx: tuple[int, ...]) -> dict[str, float]:
        blocks, precisions = space.decode(idx), space.precisions_of(idx)
        lat = sum((3.0 if b.kind == "naf" else 1.0 if b.kind == "dsconv" else 0.0) * SPEED[precisions[s]]
                  for s, b in blocks.items())
        drop = sum((0.0 if b.kind == "naf" else 0.4 if b.kind == "dsconv" else 1.5) + NOISE[precisions[s]]
                   for s, b in blocks.items())
        return {"psnr_drop": drop, "latency_ms": 5 + lat}

    return f


@pytest.mark.parametrize("make", [
    lambda s: RandomStrategy(s, 0), lambda s: NSGA2Strategy(s, 0, population_size=8),
    lambda s: TPEStrategy(s, 0), lambda s: BoTorchStrategy(s, 0, n_init=6),
], ids=["random", "nsga2", "tpe", "botorch"])
def test_strategies_draw_blocks_and_listed_precisions(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    space = SearchSpace.of(archc.parse(SPEC))
    assert space.size == 3**5 * 3**4 * 2
    history = run_search(space, toy(space), make(space), 10, Journal(tmp_path / "j.jsonl"))
    assert len({e.canonical for e in history}) == 10
    assert space.canonical_of((0,) * 10) == "e1=naf@fp16;e2=naf@fp16;m=naf@fp16;d2=naf@fp16;d1=naf@fp16"
    for e in history:
        assert "m=" in e.canonical and "@w8a8" not in e.canonical.split(";")[2]  # m lists fp16 | w8a16 only
        assert e.canonical == space.canonical_of(e.indices)
    resumed = run_search(space, toy(space), make(space), 12, Journal(tmp_path / "j.jsonl"))
    assert [e.canonical for e in resumed[:10]] == [e.canonical for e in history]


def test_quality_objective_quantizes_the_chosen_slots(tmp_path: Path) -> None:
    synthesize(tmp_path / "set", images=7, seed=4, crops_per_image=2, test_crops_per_image=1, crop=64)
    spec = archc.parse(SPECS / "nafnet_tiny_precision.arch")
    model = archc.build(spec)
    model.load_state_dict(fixture("tiny_state.pt"))  # type: ignore[arg-type]
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "t.safetensors"))
    space = SearchSpace.of(spec)
    calib = torch.from_numpy(np.concatenate(calibration_images(tmp_path / "set", 8, 64)))
    quality = QualityEvaluator(spec, space, tmp_path / "t.safetensors", None, open_dataset(tmp_path / "set"),
                               images=3, crop=64, calibration=calib)
    rows = {"fp16": (0,) * 8, "w8a16": (0, 0, 0, 0, 2, 2, 2, 2), "w8a8 one slot": (0, 0, 0, 0, 1, 0, 0, 0),
            "w8a8": (0, 0, 0, 0, 1, 1, 1, 1)}
    with torch.no_grad():
        ref = model.eval()(quality.blur)
        errors = [float(((quality.model(idx)(quality.blur) - ref) ** 2).mean()) for idx in rows.values()]
    # w8a16's uint16 grid is finer than FP16's 10-bit mantissa on the residual stream (values ~1)
    assert 0 < max(errors[0], errors[1]) < errors[2] < errors[3]  # fp16, w8a16 < one w8a8 slot < four
    assert abs(quality(rows["fp16"])["psnr_drop"]) < 0.01
    assert quality(rows["w8a8"])["psnr_drop"] != quality(rows["fp16"])["psnr_drop"]
