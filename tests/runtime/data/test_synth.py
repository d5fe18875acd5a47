"""The synthetic blur set: deterministic per seed, disjoint splits, linear-light blur, PSNR."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from archc.errors import DataError
from archc.runtime.data.datasets import open_dataset
from archc.runtime.data.images import read_raw
from archc.runtime.data.kernels import KernelConfig, random_kernel
from archc.runtime.data.synth import DEFAULT_TEST_PHOTOS, blur_image, choose_photos, synthesize
from archc.runtime.evaluation.metrics import psnr

SMALL = {"images": 4, "crops_per_image": 2, "test_crops_per_image": 2, "crop": 64}


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "set"
    synthesize(out, seed=5, **SMALL)
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(small_set: Path, tmp_path: Path) -> None:
    synthesize(tmp_path / "again", seed=5, **SMALL)
    assert _files(tmp_path / "again") == _files(small_set)
    synthesize(tmp_path / "other", seed=6, **SMALL)
    assert _files(tmp_path / "other") != _files(small_set)


def test_layout_and_meta(small_set: Path) -> None:
    meta = json.loads((small_set / "meta.json").read_text())
    train, test = meta["splits"]["train"], meta["splits"]["test"]
    assert meta["seed"] == 5 and tuple(test["sources"]) == DEFAULT_TEST_PHOTOS
    assert train["pairs"] == 2 and test["pairs"] == 6 and len(meta["images"]) == 8
    assert (small_set / "train" / train["sources"][0] / "blur" / "000001.png").is_file()
    data = open_dataset(small_set, split="test")
    assert data.kind == "gopro" and len(data) == 6 and data[0].blur.shape == (64, 64, 3)
    for row in meta["images"]:
        folder = small_set / row["split"] / row["scene"]
        measured = psnr(read_raw(folder / "blur" / row["frame"]), read_raw(folder / "sharp" / row["frame"]))
        assert measured == pytest.approx(row["psnr_db"], abs=1e-4)
        assert 0 < row["extent_px"] <= row["length_px"]


def test_splits_are_disjoint_by_source_photo(small_set: Path) -> None:
    scenes = {split: {p.name for p in (small_set / split).iterdir()} for split in ("train", "test")}
    assert scenes["train"] and not scenes["train"] & scenes["test"]
    for seed in range(5):
        split = choose_photos(11, seed)
        assert len(split["train"]) == 8 and not set(split["train"]) & set(split["test"])


def test_kernel_sums_to_one() -> None:
    for seed in range(3):
        assert random_kernel(np.random.default_rng(seed), KernelConfig()).psf.sum() == pytest.approx(1.0)


def test_linear_light_blur_differs_from_srgb_blur() -> None:
    edge = np.zeros((9, 21, 3))
    edge[:, 11:] = 1.0
    box = np.zeros((5, 5))
    box[2] = 0.2  # a 5-pixel horizontal box blur
    linear = blur_image(edge, box)
    plain = blur_image(edge, box, linear_light=False)
    assert linear.shape == plain.shape == (5, 17, 3)
    # the column where the box covers 2 black and 3 white pixels: 0.6 in sRGB space,
    # 0.6 ** (1 / 2.2) when averaged in linear light, as light adds up on a sensor
    assert plain[2, 9, 0] == pytest.approx(0.6)
    assert linear[2, 9, 0] == pytest.approx(0.6 ** (1 / 2.2))
    assert np.abs(linear - plain).max() > 0.1


def test_default_strength_puts_test_blur_psnr_in_24_to_27_db(tmp_path: Path) -> None:
    summary = synthesize(tmp_path / "d", images=4, seed=0, crops_per_image=1)  # the default test split, in full
    assert summary.pairs["test"] == 24
    assert 24.0 <= summary.mean_psnr["test"] <= 27.0


def test_more_training_crops_leave_the_test_split_unchanged(small_set: Path, tmp_path: Path) -> None:
    synthesize(tmp_path / "more", seed=5, **{**SMALL, "crops_per_image": 5})
    meta = json.loads((tmp_path / "more" / "meta.json").read_text())
    assert meta["splits"]["train"]["pairs"] == 5 and meta["splits"]["test"]["pairs"] == 6
    assert _files(tmp_path / "more" / "test") == _files(small_set / "test")
    first = _files(small_set / "train")
    assert {k: v for k, v in _files(tmp_path / "more" / "train").items() if k in first} == first


def test_small_set_psnr_is_plausible(small_set: Path) -> None:
    meta = json.loads((small_set / "meta.json").read_text())
    for split in ("train", "test"):
        assert 15.0 < meta["splits"][split]["mean_psnr_db"] < 35.0


def test_refuses_a_non_empty_folder_unless_it_is_a_synth_set(small_set: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is not empty") as info:
        synthesize(small_set, seed=5, **SMALL)
    assert info.value.diagnostics[0].code == "E0512"
    synthesize(small_set, seed=5, overwrite=True, **SMALL)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="mine"):
        synthesize(tmp_path / "mine", overwrite=True, **SMALL)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_photos": ("lena",)}, "unknown test photograph"),
        ({"images": 3, "test_photos": ("chelsea", "coffee", "rocket")}, "images must be 4..14"),
        ({"crop": 400}, "smaller than the 400px crop"),
        ({"test_crops_per_image": 0}, "test_crops_per_image must be at least 1"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args = {**SMALL, **kwargs}
    with pytest.raises(DataError, match=message):
        synthesize(tmp_path / "x", seed=0, **args)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []  # neither the set nor its staging folder is left
