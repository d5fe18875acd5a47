"""Camera-shake and defocus kernels: normalised, centred, lengths as drawn."""

from __future__ import annotations

import numpy as np
import pytest

from archc.runtime.data.kernels import (
    KernelConfig,
    convolve_kernels,
    defocus_disk,
    random_kernel,
    shake_trajectory,
    trajectory_psf,
)


def _centroid(psf: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[: psf.shape[0], : psf.shape[1]]
    centre = psf.shape[0] // 2
    return float((psf * xs).sum() - centre), float((psf * ys).sum() - centre)


@pytest.mark.parametrize("seed", range(6))
def test_kernels_sum_to_one_are_odd_and_centred(seed: int) -> None:
    config = KernelConfig(defocus_prob=0.5)
    kernel = random_kernel(np.random.default_rng(seed), config)
    psf = kernel.psf
    assert psf.sum() == pytest.approx(1.0, abs=1e-12) and psf.min() >= 0.0
    assert psf.shape[0] == psf.shape[1] and psf.shape[0] % 2 == 1
    assert _centroid(psf) == pytest.approx((0.0, 0.0), abs=1e-9)
    assert config.length_px[0] <= kernel.length_px <= config.length_px[1]
    assert kernel.extent_px <= kernel.length_px + 1e-9


def test_path_has_the_drawn_length_and_zero_anxiety_is_straight() -> None:
    points, shakes = shake_trajectory(np.random.default_rng(0), 20.0, anxiety=0.0, steps=200)
    steps = np.hypot(*np.diff(points, axis=0).T)
    assert steps.sum() == pytest.approx(20.0) and shakes == 0
    assert np.hypot(*(points[-1] - points[0])) == pytest.approx(20.0)


def test_straight_horizontal_path_gives_a_line_psf() -> None:
    points = np.stack([np.linspace(0, 8, 801), np.zeros(801)], axis=1)
    psf = trajectory_psf(points)
    rows = psf.sum(axis=1)
    assert rows[psf.shape[0] // 2] == pytest.approx(1.0)
    assert np.count_nonzero(psf.sum(axis=0) > 1e-3) == 9


def test_defocus_disk_and_combination() -> None:
    disk = defocus_disk(2.5)
    assert disk.shape == (7, 7) and disk.sum() == pytest.approx(1.0)
    assert disk[3, 3] == disk.max() and disk[0, 0] == 0.0
    both = convolve_kernels(disk, defocus_disk(1.0))
    assert both.shape == (9, 9) and both.sum() == pytest.approx(1.0)
