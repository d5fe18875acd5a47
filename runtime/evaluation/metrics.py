"""NAFNet's evaluation metrics (facts/nafnet.md, "Evaluation protocol details"; datasets.md 5.1).

Both images are first put in saved-image form: clamped to [0, 1], times 255, rounded (half to
even, as numpy and torch round), so scores are those of the 8-bit PNGs. Then:
- `psnr`: all three RGB channels, no border crop, peak 255. (NAFNet's code picks peak 1 when
  an image's maximum is at most 1, which only happens for an almost black 8-bit image; here
  the peak is always 255.)
- `ssim3d`: NAFNet's default SSIM, equal to MATLAB's `ssim` on an H x W x 3 array: one
  11 x 11 x 11 Gaussian window (sigma 1.5) over height, width AND channel, replicate padding,
  C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, mean of the whole map.
- `ssim`: the usual per-channel 2-D Gaussian SSIM (scikit-image with gaussian_weights=True,
  sigma 1.5, use_sample_covariance=False, data_range 255), mean over the three channels.

Inputs: numpy `H x W x 3` (float in [0, 1], or uint8 taken as already saved), or torch
`3 x H x W` / `1 x 3 x H x W` in [0, 1] (moved to the CPU). The Gaussian filtering runs as
separable `scipy.ndimage.correlate1d` passes in float64, several times faster on a CPU than
torch's float64 convolutions.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import ndimage

Image = np.ndarray | torch.Tensor

PEAK = 255.0
C1 = (0.01 * PEAK) ** 2
C2 = (0.03 * PEAK) ** 2
SIGMA = 1.5
RADIUS = 5  # 11 taps: int(3.5 * 1.5 + 0.5) in scikit-image, a fixed 11 in NAFNet and MATLAB


def psnr(out: Image, gt: Image) -> float:
    """PSNR in dB of two images after 8-bit rounding; inf when they are identical."""
    a, b = _pair(out, gt)
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(PEAK * PEAK / mse)


def ssim(out: Image, gt: Image) -> float:
    """Per-channel 2-D Gaussian SSIM, averaged over channels; matches scikit-image's
    `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=255, channel_axis=-1)`. Like scikit-image, the mean skips a 5-pixel border."""
    a, b = _pair(out, gt)
    if min(a.shape[:2]) < 2 * RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {a.shape[:2]}")
    ssim_map = _ssim_map(a, b, axes=(0, 1), mode="reflect")
    # every channel keeps the same number of pixels, so the mean of the whole cropped map
    # is the mean of the three per-channel means
    return float(ssim_map[RADIUS:-RADIUS, RADIUS:-RADIUS].mean())


def ssim3d(out: Image, gt: Image) -> float:
    """NAFNet's 3-D SSIM over height, width and channel (replicate padding); mean of the map."""
    a, b = _pair(out, gt)
    return float(_ssim_map(a, b, axes=(0, 1, 2), mode="nearest").mean())


# --- internals ------------------------------------------------------------------------------


def _pair(out: Image, gt: Image) -> tuple[np.ndarray, np.ndarray]:
    a, b = _saved_form(out), _saved_form(gt)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape} (H x W x C)")
    return a, b


def _saved_form(image: Image) -> np.ndarray:
    """`H x W x 3` float64 array of 8-bit values 0..255 (clamp to [0, 1], x255, round)."""
    if isinstance(image, torch.Tensor):
        chw = image.detach()
        if chw.ndim == 4 and chw.shape[0] == 1:
            chw = chw[0]
        if chw.ndim != 3 or chw.shape[0] != 3:
            raise ValueError(f"expected a tensor 3 x H x W or 1 x 3 x H x W, got {tuple(image.shape)}")
        image = chw.to("cpu", torch.float64).permute(1, 2, 0).numpy()
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a numpy H x W x 3 image, got shape {image.shape}")
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    return np.round(np.clip(image.astype(np.float64), 0.0, 1.0) * PEAK)


def _gaussian() -> np.ndarray:
    """The 11-tap Gaussian (sigma 1.5) normalised to sum 1."""
    taps = np.arange(-RADIUS, RADIUS + 1, dtype=np.float64)
    weights = np.exp(-(taps**2) / (2 * SIGMA**2))
    return weights / weights.sum()


def _blur(t: np.ndarray, axes: tuple[int, ...], mode: str) -> np.ndarray:
    """Separable Gaussian along `axes` of `t` (any shape), same shape, borders by `mode`."""
    g = _gaussian()
    for axis in axes:
        t = ndimage.correlate1d(t, g, axis=axis, mode=mode)
    return t


def _ssim_map(x: np.ndarray, y: np.ndarray, axes: tuple[int, ...], mode: str) -> np.ndarray:
    """SSIM at every position of `H x W x 3` images, with the window over `axes`."""
    mu_x, mu_y = _blur(x, axes, mode), _blur(y, axes, mode)
    var_x = _blur(x * x, axes, mode) - mu_x**2
    var_y = _blur(y * y, axes, mode) - mu_y**2
    cov = _blur(x * y, axes, mode) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + C1) / (mu_x**2 + mu_y**2 + C1)
    return luminance * (2 * cov + C2) / (var_x + var_y + C2)
