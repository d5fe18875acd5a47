"""Each published layout on a tiny tree built here, and every data error naming its file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archc.errors import DataError
from archc.runtime.data import pairs as pairs_module
from archc.runtime.data.datasets import detect_kind, open_dataset, read_pair_list
from archc.runtime.data.images import write_image

RJ = "RealBlur-J_ECC_IMCORR_centroid_itensity_ref"
RR = "RealBlur-R_BM3D_ECC_IMCORR_centroid_itensity_ref"


def _img(seed: int, height: int = 12, width: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3)).astype(np.uint8)


def _put(path: Path, image: np.ndarray) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, image)
    return image


def _code(info: pytest.ExceptionInfo[DataError]) -> str:
    return info.value.diagnostics[0].code


# --- GoPro ----------------------------------------------------------------------------------


def _gopro(tmp_path: Path) -> Path:
    root = tmp_path / "GOPRO_Large"
    for s, seq in enumerate(("GOPR0384_11_00", "GOPR0385_11_01")):
        for f, frame in enumerate(("000001.png", "000002.png")):
            seed = 10 * s + f
            _put(root / "test" / seq / "blur" / frame, _img(seed))
            _put(root / "test" / seq / "blur_gamma" / frame, _img(seed + 100))
            _put(root / "test" / seq / "sharp" / frame, _img(seed + 200))
    _put(root / "train" / "GOPR0372_07_00" / "blur" / "000047.png", _img(50))
    _put(root / "train" / "GOPR0372_07_00" / "sharp" / "000047.png", _img(51))
    return root


def test_gopro_pairs_by_name(tmp_path: Path) -> None:
    data = open_dataset(_gopro(tmp_path))
    assert data.kind == "gopro" and data.split == "test" and len(data) == 4
    assert data.names[:2] == ("GOPR0384_11_00-000001", "GOPR0384_11_00-000002")
    name, blur, sharp = data[1]
    assert name == "GOPR0384_11_00-000002"
    np.testing.assert_array_equal(blur, _img(1) / np.float32(255))
    np.testing.assert_array_equal(sharp, _img(201) / np.float32(255))
    assert blur.dtype == np.float32 and blur.shape == (12, 16, 3)
    assert len(open_dataset(tmp_path / "GOPRO_Large", "gopro", split="train")) == 1


def test_gopro_blur_gamma_folder(tmp_path: Path) -> None:
    data = open_dataset(_gopro(tmp_path), gopro_blur="blur_gamma")
    np.testing.assert_array_equal(data[0].blur, _img(100) / np.float32(255))


def test_gopro_blur_without_sharp_twin(tmp_path: Path) -> None:
    root = _gopro(tmp_path)
    (root / "test" / "GOPR0385_11_01" / "sharp" / "000002.png").unlink()
    with pytest.raises(DataError, match=r"GOPR0385_11_01/blur/000002.png has no sharp twin") as info:
        open_dataset(root)
    assert _code(info) == "E0503"


def test_gopro_sharp_without_blur_twin(tmp_path: Path) -> None:
    root = _gopro(tmp_path)
    _put(root / "test" / "GOPR0384_11_00" / "sharp" / "000003.png", _img(3))
    with pytest.raises(DataError, match=r"sharp image .*000003.png has no blurred twin"):
        open_dataset(root)


def test_gopro_missing_sharp_folder(tmp_path: Path) -> None:
    root = tmp_path / "g"
    for folder in ("blur", "sharp"):
        _put(root / "test" / "SEQ" / folder / "000001.png", _img(0))
    _put(root / "test" / "SEQ2" / "blur" / "000001.png", _img(0))
    with pytest.raises(DataError, match=r"SEQ2/sharp does not exist") as info:
        open_dataset(root, "gopro")
    assert _code(info) == "E0501"


def test_missing_split_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"GoPro `val` folder .*val does not exist"):
        open_dataset(_gopro(tmp_path), "gopro", split="val")


def test_missing_dataset_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nothing-here") as info:
        open_dataset(tmp_path / "nothing-here")
    assert _code(info) == "E0501"


def test_mismatched_sizes_name_both_files(tmp_path: Path) -> None:
    root = _gopro(tmp_path)
    _put(root / "test" / "GOPR0384_11_00" / "sharp" / "000001.png", _img(0, 12, 15))
    with pytest.raises(DataError, match=r"blur/000001.png is 16x12 .*sharp/000001.png is 15x12") as info:
        open_dataset(root)
    assert _code(info) == "E0504"


def test_mismatched_sizes_found_on_decode_without_header_check(tmp_path: Path) -> None:
    root = _gopro(tmp_path)
    _put(root / "test" / "GOPR0384_11_00" / "sharp" / "000001.png", _img(0, 10, 16))
    data = open_dataset(root, check_sizes=False)
    with pytest.raises(DataError, match="sizes differ"):
        data[0]


def test_corrupt_png_names_the_file(tmp_path: Path) -> None:
    root = _gopro(tmp_path)
    bad = root / "test" / "GOPR0385_11_01" / "blur" / "000001.png"
    bad.write_bytes(bad.read_bytes()[:60])  # header intact, pixel data cut
    data = open_dataset(root)
    with pytest.raises(DataError, match="GOPR0385_11_01/blur/000001.png") as info:
        data[2]
    assert _code(info) == "E0502"
    bad.write_bytes(b"garbage")  # header unreadable: found when the dataset is opened
    with pytest.raises(DataError, match="GOPR0385_11_01/blur/000001.png"):
        open_dataset(root)


def test_images_are_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = pairs_module.read_raw

    def counting(path: Path, **kwargs: object) -> np.ndarray:
        calls.append(path)
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pairs_module, "read_raw", counting)
    data = open_dataset(_gopro(tmp_path))
    data.preload(workers=2)
    assert len(calls) == 8
    for _ in range(3):
        list(data)
    assert len(calls) == 8


# --- RealBlur -------------------------------------------------------------------------------


def _realblur(tmp_path: Path, folders: tuple[str, ...] = (RJ,)) -> Path:
    root = tmp_path / "RealBlur"
    for folder in folders:
        variant = "J" if folder == RJ else "R"
        lines = []
        for scene, k in (("scene230", 7), ("scene230", 2), ("scene002", 21)):
            seed = int(scene[-3:]) + k
            _put(root / folder / scene / "gt" / f"gt_{k}.png", _img(seed))
            _put(root / folder / scene / "blur" / f"blur_{k}.png", _img(seed + 1000))
            lines.append(f"{folder}/{scene}/gt/gt_{k}.png {folder}/{scene}/blur/blur_{k}.png")
        # the official format: a trailing space on every line but the last, no final newline
        (root / f"RealBlur_{variant}_test_list.txt").write_text(" \n".join(lines))
        (root / f"RealBlur_{variant}_train_list.txt").write_text(lines[0])
    return root


def test_realblur_list_with_trailing_spaces(tmp_path: Path) -> None:
    root = _realblur(tmp_path)
    assert (root / "RealBlur_J_test_list.txt").read_text().count(" \n") == 2
    data = open_dataset(root)
    assert data.kind == "realblur-j" and len(data) == 3
    assert data.names == ("scene230_blur_7", "scene230_blur_2", "scene002_blur_21")
    name, blur, sharp = data[0]
    np.testing.assert_array_equal(blur, _img(230 + 7 + 1000) / np.float32(255))  # blur: 2nd column
    np.testing.assert_array_equal(sharp, _img(230 + 7) / np.float32(255))  # GT: 1st column
    assert len(open_dataset(root, split="train")) == 1


def test_realblur_j_and_r_need_an_explicit_kind(tmp_path: Path) -> None:
    root = _realblur(tmp_path, (RJ, RR))
    with pytest.raises(DataError, match="both RealBlur-J and RealBlur-R"):
        open_dataset(root)
    data = open_dataset(root, "realblur-r")
    assert data.kind == "realblur-r" and data.pairs[0].blur.parts[-4] == RR


def test_realblur_listed_file_missing(tmp_path: Path) -> None:
    root = _realblur(tmp_path)
    (root / RJ / "scene002" / "blur" / "blur_21.png").unlink()
    with pytest.raises(DataError, match=r"scene002/blur/blur_21.png listed in .*RealBlur_J_test_list.txt"):
        open_dataset(root)


def test_realblur_missing_list_and_bad_line(tmp_path: Path) -> None:
    root = _realblur(tmp_path)
    (root / "RealBlur_J_train_list.txt").unlink()
    with pytest.raises(DataError, match="RealBlur_J_train_list.txt does not exist"):
        open_dataset(root, "realblur-j", split="train")
    (root / "RealBlur_J_test_list.txt").write_text("a.png b.png \nonly-one.png \n")
    with pytest.raises(DataError, match=r"RealBlur_J_test_list.txt:2: expected"):
        read_pair_list(root / "RealBlur_J_test_list.txt")


# --- HIDE -----------------------------------------------------------------------------------


def _hide(tmp_path: Path) -> Path:
    root = tmp_path / "HIDE_dataset"
    _put(root / "test" / "test-close-ups" / "1fromGOPR0950.png", _img(1))
    _put(root / "test" / "test-long-shot" / "9fromGOPR1091.png", _img(2))
    _put(root / "train" / "3fromGOPR0976.png", _img(3))
    for name, seed in (("1fromGOPR0950.png", 11), ("9fromGOPR1091.png", 12), ("3fromGOPR0976.png", 13)):
        _put(root / "GT" / name, _img(seed))
    return root


def test_hide_test_subsets_and_train(tmp_path: Path) -> None:
    root = _hide(tmp_path)
    data = open_dataset(root)
    assert data.kind == "hide" and data.names == ("1fromGOPR0950", "9fromGOPR1091")
    np.testing.assert_array_equal(data[1].sharp, _img(12) / np.float32(255))
    assert open_dataset(root, hide_subset="long-shot").names == ("9fromGOPR1091",)
    assert open_dataset(root, split="train").names == ("3fromGOPR0976",)


def test_hide_blurred_without_gt(tmp_path: Path) -> None:
    root = _hide(tmp_path)
    (root / "GT" / "9fromGOPR1091.png").unlink()
    with pytest.raises(DataError, match=r"test-long-shot/9fromGOPR1091.png has no sharp twin .*GT/9fromGOPR1091.png"):
        open_dataset(root)


def test_hide_missing_subset_folder(tmp_path: Path) -> None:
    root = _hide(tmp_path)
    for p in (root / "test" / "test-close-ups").iterdir():
        p.unlink()
    (root / "test" / "test-close-ups").rmdir()
    with pytest.raises(DataError, match="test-close-ups does not exist"):
        open_dataset(root)


# --- DPDD -----------------------------------------------------------------------------------


def _dpdd(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    root = tmp_path / "dd_dp_dataset_png"
    rng = np.random.default_rng(5)
    arrays = {}
    for source, target in (("1P0A0917", "1P0A0916"), ("1P0A1020", "1P0A1021")):
        for path in (
            root / "test_c" / "source" / f"{source}.png",
            root / "test_c" / "target" / f"{target}.png",
            root / "test_l" / "source" / f"{source}_L.png",
            root / "test_r" / "source" / f"{source}_R.png",
        ):
            arrays[path.stem] = _put(path, rng.integers(0, 65536, (8, 12, 3)).astype(np.uint16))
    return root, arrays


def test_dpdd_pairs_by_sorted_order_with_both_protocols(tmp_path: Path) -> None:
    root, arrays = _dpdd(tmp_path)
    data = open_dataset(root)
    assert data.kind == "dpdd" and data.protocol == "8bit"
    assert [(p.blur.stem, p.sharp.stem) for p in data.pairs] == [("1P0A0917", "1P0A0916"), ("1P0A1020", "1P0A1021")]
    np.testing.assert_allclose(data[0].blur, (arrays["1P0A0917"] >> 8) / 255.0, atol=1e-7)
    wide = open_dataset(root, protocol="16bit")
    assert wide.protocol == "16bit"
    np.testing.assert_allclose(wide[0].sharp, arrays["1P0A0916"] / 65535.0, atol=1e-7)


def test_dpdd_unequal_counts(tmp_path: Path) -> None:
    root, _ = _dpdd(tmp_path)
    (root / "test_c" / "target" / "1P0A1021.png").unlink()
    with pytest.raises(DataError, match=r"holds 2 images but .*target holds 1; unpaired .*1P0A1020.png"):
        open_dataset(root)


def test_dpdd_missing_target_folder(tmp_path: Path) -> None:
    root, _ = _dpdd(tmp_path)
    with pytest.raises(DataError, match=r"val_c/source does not exist"):
        open_dataset(root, split="val")


# --- generic folders, detection -------------------------------------------------------------


@pytest.mark.parametrize(("blur_dir", "sharp_dir"), [("input", "target"), ("blur", "sharp")])
def test_paired_folder(tmp_path: Path, blur_dir: str, sharp_dir: str) -> None:
    for i, name in enumerate(("GOPR0384_11_00-000001.png", "b.png")):
        _put(tmp_path / "set" / "test" / blur_dir / name, _img(i))
        _put(tmp_path / "set" / "test" / sharp_dir / name, _img(i + 9))
    data = open_dataset(tmp_path / "set")
    assert data.kind == "folder" and data.names == ("GOPR0384_11_00-000001", "b")
    flat = open_dataset(tmp_path / "set" / "test", "folder")
    assert flat.names == data.names


def test_paired_folder_missing_half(tmp_path: Path) -> None:
    _put(tmp_path / "set" / "input" / "a.png", _img(0))
    with pytest.raises(DataError, match=r"set/target does not exist"):
        open_dataset(tmp_path / "set")


def test_detect_kind(tmp_path: Path) -> None:
    assert detect_kind(_gopro(tmp_path)) == "gopro"
    assert detect_kind(_hide(tmp_path)) == "hide"
    assert detect_kind(_dpdd(tmp_path)[0]) == "dpdd"
    assert detect_kind(_realblur(tmp_path)) == "realblur-j"


def test_unknown_layout_and_kind(tmp_path: Path) -> None:
    (tmp_path / "odd" / "stuff").mkdir(parents=True)
    with pytest.raises(DataError, match="cannot tell the dataset layout of .*odd") as info:
        open_dataset(tmp_path / "odd")
    assert _code(info) == "E0505"
    with pytest.raises(DataError, match="unknown dataset kind `gopr0`") as info:
        open_dataset(tmp_path / "odd", "gopr0")
    assert "did you mean `gopro`?" in (info.value.diagnostics[0].help or "")
    with pytest.raises(DataError, match="unknown bit protocol `12bit`"):
        open_dataset(tmp_path / "odd", "gopro", protocol="12bit")  # type: ignore[arg-type]


def test_empty_split_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "g" / "test" / "SEQ" / "blur").mkdir(parents=True)
    (tmp_path / "g" / "test" / "SEQ" / "sharp").mkdir(parents=True)
    with pytest.raises(DataError, match="no image pairs found"):
        open_dataset(tmp_path / "g")
