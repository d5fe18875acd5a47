"""The search's validation crops are drawn across the test split's scenes (the source photographs
meta.json names), not the first files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from archc.runtime.data.datasets import open_dataset
from archc.runtime.data.synth import synthesize
from archc.runtime.data.validation import validation_indices


@pytest.fixture(scope="module")
def test_split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("set") / "synth"
    synthesize(out, images=4, seed=4, crops_per_image=1, test_crops_per_image=3, crop=32)
    return out


def _scenes(folder: Path) -> dict[str, str]:
    """Pair name -> scene, from meta.json (pairs are named `<scene>-<frame stem>`)."""
    records = json.loads((folder / "meta.json").read_text())["images"]
    return {f"{r['scene']}-{Path(r['frame']).stem}": r["scene"] for r in records if r["split"] == "test"}


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8])
def test_validation_images_spread_over_every_scene(test_split: Path, n: int) -> None:
    pairs = open_dataset(test_split, split="test")
    scene = _scenes(test_split)
    chosen = validation_indices(pairs, n)
    assert len(chosen) == n == len(set(chosen)) and chosen == sorted(chosen)
    counts = Counter(scene[pairs.pairs[i].name] for i in chosen)
    assert len(counts) == min(n, 3)  # three photographs in the test split
    assert max(counts.values()) - min(counts.values()) <= 1


def test_all_pairs_when_asked_for_more(test_split: Path) -> None:
    pairs = open_dataset(test_split, split="test")
    assert validation_indices(pairs, 50) == list(range(len(pairs)))
