"""NAFNet's metrics against hand computations, scikit-image and a plain 3-D SSIM written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.metrics import structural_similarity

from archc.runtime.evaluation.metrics import psnr, ssim, ssim3d

RNG = np.random.default_rng(11)


def _pair(height: int = 40, width: int = 52, noise: int = 30) -> tuple[np.ndarray, np.ndarray]:
    gt = RNG.integers(0, 256, (height, width, 3)).astype(np.uint8)
    out = np.clip(gt.astype(int) + RNG.integers(-noise, noise + 1, gt.shape), 0, 255).astype(np.uint8)
    return out, gt


def _reference_ssim3d(out: np.ndarray, gt: np.ndarray) -> float:
    """MATLAB-style volume SSIM written out plainly: a full 11 x 11 x 11 Gaussian kernel,
    edge-replicating borders, on the uint8 values."""
    taps = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    taps /= taps.sum()
    kernel = taps[:, None, None] * taps[None, :, None] * taps[None, None, :]
    x, y = out.astype(np.float64), gt.astype(np.float64)

    def mean(v: np.ndarray) -> np.ndarray:
        return ndimage.convolve(v, kernel, mode="nearest")

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = mean(x), mean(y)
    vx, vy, cxy = mean(x * x) - mx * mx, mean(y * y) - my * my, mean(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(ssim_map.mean())


def test_psnr_by_hand() -> None:
    gt = np.zeros((4, 5, 3), np.uint8)
    out = gt.copy()
    out[1, 2, 0] = 10
    out[3, 4, 2] = 20
    mse = (10**2 + 20**2) / 60
    assert psnr(out, gt) == pytest.approx(10 * math.log10(255**2 / mse))


def test_psnr_rounds_and_clamps_floats_first() -> None:
    gt = np.full((2, 2, 3), 0.5)  # 127.5 rounds half to even: 128
    out = np.full((2, 2, 3), 130.4 / 255)  # rounds to 130
    assert psnr(out, gt) == pytest.approx(10 * math.log10(255**2 / 4))
    assert psnr(np.full((2, 2, 3), 1.7), np.ones((2, 2, 3))) == math.inf


@pytest.mark.parametrize("noise", [5, 30, 90])
def test_ssim_matches_scikit_image(noise: int) -> None:
    out, gt = _pair(noise=noise)
    expected = structural_similarity(
        out, gt, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1
    )
    assert ssim(out, gt) == pytest.approx(expected, abs=1e-4)
    assert ssim(out / 255.0, gt / 255.0) == pytest.approx(expected, abs=1e-4)


def test_ssim3d_matches_a_plain_volume_ssim() -> None:
    for noise in (5, 40):
        out, gt = _pair(31, 45, noise)
        assert ssim3d(out, gt) == pytest.approx(_reference_ssim3d(out, gt), abs=1e-10)


def test_ssim3d_is_not_the_per_channel_ssim() -> None:
    # the window also averages over channels, so independent per-channel noise weighs less
    # (facts/datasets.md 5.1: the volume SSIM reads higher)
    base = ndimage.gaussian_filter(RNG.random((48, 48, 3)), (3, 3, 0))
    out, gt = base + RNG.normal(0, 0.02, base.shape), base
    assert ssim3d(out, gt) > ssim(out, gt) + 0.02


def test_identical_images() -> None:
    _, gt = _pair()
    assert psnr(gt, gt) == math.inf
    assert ssim(gt, gt) == pytest.approx(1.0)
    assert ssim3d(gt, gt) == pytest.approx(1.0)


def test_torch_inputs_agree_with_numpy() -> None:
    out, gt = _pair()
    t_out = torch.from_numpy(out.transpose(2, 0, 1) / 255.0).float()
    t_gt = torch.from_numpy(gt.transpose(2, 0, 1) / 255.0).float()
    for metric in (psnr, ssim, ssim3d):
        assert metric(t_out, t_gt) == pytest.approx(metric(out, gt), abs=1e-12)
        assert metric(t_out[None], gt) == pytest.approx(metric(out, gt), abs=1e-12)


def test_shape_errors() -> None:
    out, gt = _pair()
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(out[:-1], gt)
    with pytest.raises(ValueError):
        ssim(out[:, :, 0], gt[:, :, 0])
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(out[:8, :8], gt[:8, :8])
