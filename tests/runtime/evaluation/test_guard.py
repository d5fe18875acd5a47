"""The teacher check: a network that returns its input (a fresh NAFNet, residual scales at zero, last
conv zeroed) gains 0 dB over the blurred input and is refused; the flag lets it through."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from archc.runtime.data.datasets import open_dataset
from archc.runtime.evaluation.guard import ALLOW_FLAG, MIN_GAIN_DB, TeacherCheck, WeakTeacherError, measure, require

from distill_helpers import write_data, write_spec
from guard_helpers import identity_teacher


@pytest.fixture(scope="module")
def micro(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("guard")
    return write_spec(root), write_data(root / "data")


def test_a_network_returning_its_input_gains_exactly_nothing(micro: tuple[Path, Path]) -> None:
    spec, data = micro
    check = measure(identity_teacher(spec), open_dataset(data, split="test"), images=2, crop=16)
    assert check.images == 2 and check.crop == 16
    assert check.teacher_psnr == check.input_psnr and check.gain == 0.0
    assert not check.passed


def test_measure_scores_the_blurred_input_against_the_sharp_crop(micro: tuple[Path, Path]) -> None:
    spec, data = micro
    pairs = open_dataset(data, split="test")

    class Sharpen(torch.nn.Module):  # returns the sharp crops: the best teacher there is
        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            from archc.runtime.data.crops import ValCrops

            self.n += 1
            return ValCrops(pairs, 16)[self.n - 1][2][None]

    check = measure(Sharpen(), pairs, images=2, crop=16)
    assert check.teacher_psnr == float("inf") and check.passed


@pytest.mark.parametrize(("teacher", "blurred", "passed"), [(26.0, 25.0, True), (25.1, 25.0, True),
                                                            (25.05, 25.0, False), (24.0, 25.0, False)])
def test_the_teacher_must_gain_a_tenth_of_a_db(teacher: float, blurred: float, passed: bool) -> None:
    assert MIN_GAIN_DB == 0.1
    assert TeacherCheck(teacher, blurred, 8, 128).passed is passed


def test_a_weak_teacher_is_refused_naming_both_psnrs_unless_allowed() -> None:
    weak = TeacherCheck(25.016, 25.05, 8, 128)
    with pytest.raises(WeakTeacherError) as err:
        require(weak)
    text = err.value.render()
    assert "25.016 dB" in text and "25.050 dB" in text and "-0.034 dB" in text
    assert "E1801" in text and ALLOW_FLAG in text
    assert require(weak, allow=True) is weak
    assert weak.to_json() == {"teacher_psnr": 25.016, "input_psnr": 25.05, "gain_db": pytest.approx(-0.034),
                              "images": 8, "crop": 128, "min_gain_db": 0.1, "passed": False}
