"""The shipped teachers still score what their cards say, on a test split synthesized afresh.

A change to the synthesis (kernels, noise, crops) or to the network's lowering that would make a
card stale fails here, instead of silently shipping weights that no longer match their figures."""

from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc.compiler.pretrained import PREFIX, available
from archc.runtime.data.datasets import open_dataset
from archc.runtime.data.synth import synthesize
from archc.runtime.evaluation.evaluate import evaluate

SHIPPED = available()


@pytest.fixture(scope="module")
def fresh_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """One freshly synthesized set per data seed the cards name (one training crop per photograph:
    each test pair is drawn from its own seeded generator, so the training split's size cannot move it)."""
    root = tmp_path_factory.mktemp("synth")
    seeds = {int(p.card["data"]["seed"]) for p in SHIPPED}
    return {s: synthesize(root / f"seed{s}", seed=s, crops_per_image=1).out_dir for s in seeds}


@pytest.mark.parametrize("pretrained", SHIPPED, ids=lambda p: p.name)
def test_the_teacher_matches_its_card(pretrained, fresh_sets) -> None:  # type: ignore[no-untyped-def]
    card = pretrained.test
    model = archc.build(str(pretrained.spec), weights=f"{PREFIX}{pretrained.name}").eval()
    result = evaluate(model, open_dataset(fresh_sets[int(pretrained.card["data"]["seed"])], split="test"))
    assert len(result.images) == card["images"]
    assert result.mean("input_psnr") == pytest.approx(card["input_psnr"], abs=1e-3)  # the same blurred crops
    # the same restorations, up to a pixel rounding differently on another CPU's kernels
    assert result.mean("psnr") == pytest.approx(card["psnr"], abs=0.02)
    assert result.mean("ssim") == pytest.approx(card["ssim"], abs=1e-3)
    assert result.mean("psnr") - result.mean("input_psnr") > 0.1  # a teacher the guard rails accept


@pytest.mark.parametrize("pretrained", SHIPPED, ids=lambda p: p.name)
def test_the_card_names_the_family_of_its_spec(pretrained) -> None:  # type: ignore[no-untyped-def]
    spec = archc.parse(pretrained.spec)
    kinds = {block.kind for stage in spec.stages for block, _ in stage.runs}
    family = {"naf": "NAFNet", "restormer": "Restormer", "baseline": "NAFNet-Baseline"}
    assert pretrained.card["family"] in {family[k] for k in kinds}
    assert f"A {pretrained.card['family']} teacher" in (pretrained.spec.parent / "MODEL_CARD.md").read_text()
