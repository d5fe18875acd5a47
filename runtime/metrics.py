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
`3 x H x W` / `1 x 3 x H x W` in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

Image = np.ndarray | torch.Tensor

PEAK = 255.0
C1 = (0.01 * PEAK) ** 2
C2 = (0.03 * PEAK) ** 2
SIGMA = 1.5
RADIUS = 5  # 11-tap window: int(3.5 * 1.5 + 0.5) for scikit-image, fixed at 11 by NAFNet


def psnr(out: Image, gt: Image) -> float:
    """PSNR in dB of two images after 8-bit rounding; inf when they are identical."""
    a, b = _pair(out, gt)
    mse = float(torch.mean((a - b) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(PEAK * PEAK / mse)


def ssim(out: Image, gt: Image) -> float:
    """Per-channel 2-D Gaussian SSIM, averaged over channels; matches scikit-image's
    `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=255, channel_axis=-1)`. Like scikit-image, the mean skips a 5-pixel border,
    where the window would leave the image."""
    a, b = _pair(out, gt)
    if min(a.shape[1:]) < 2 * RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {tuple(a.shape[1:])}")
    x, y = a[:, None], b[:, None]  # 3 x 1 x H x W: each channel an image of its own
    stats = _local_stats(x, y, lambda t: _blur2d(t, _gaussian(a)))
    return float(_ssim_map(*stats).mean())


def ssim3d(out: Image, gt: Image) -> float:
    """NAFNet's 3-D SSIM over height, width and channel (replicate padding); mean of the map."""
    a, b = _pair(out, gt)
    x, y = a[None, None], b[None, None]  # 1 x 1 x 3 x H x W: the channels are a depth axis
    stats = _local_stats(x, y, lambda t: _blur3d(t, _gaussian(a)))
    return float(_ssim_map(*stats).mean())


# --- internals ------------------------------------------------------------------------------


def _pair(out: Image, gt: Image) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = _saved_form(out), _saved_form(gt)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)} (C x H x W)")
    return a, b.to(a.device)


def _saved_form(image: Image) -> torch.Tensor:
    """`3 x H x W` float64 tensor of 8-bit values 0..255 (clamp, x255, round)."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected a numpy H x W x 3 image, got shape {image.shape}")
        if image.dtype == np.uint8:
            return torch.from_numpy(image.transpose(2, 0, 1).astype(np.float64))
        chw = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    else:
        chw = image.detach()
        if chw.ndim == 4 and chw.shape[0] == 1:
            chw = chw[0]
        if chw.ndim != 3 or chw.shape[0] != 3:
            raise ValueError(f"expected a tensor 3 x H x W or 1 x 3 x H x W, got {tuple(image.shape)}")
    return torch.round(chw.to(torch.float64).clamp(0.0, 1.0) * PEAK)


def _gaussian(like: torch.Tensor) -> torch.Tensor:
    """The 11-tap Gaussian (sigma 1.5) normalised to sum 1, as float64 on `like`'s device."""
    taps = torch.arange(-RADIUS, RADIUS + 1, dtype=torch.float64, device=like.device)
    weights = torch.exp(-(taps**2) / (2 * SIGMA**2))
    return weights / weights.sum()


def _blur2d(t: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian over H and W of `N x 1 x H x W`, valid positions only
    (`N x 1 x (H-10) x (W-10)`), i.e. scikit-image's map with its border already cut off."""
    t = F.conv2d(t, g.view(1, 1, -1, 1))
    return F.conv2d(t, g.view(1, 1, 1, -1))


def _blur3d(t: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian over C, H and W of `1 x 1 x C x H x W`, replicate-padded, same shape."""
    t = F.pad(t, (RADIUS,) * 6, mode="replicate")
    for shape in ((-1, 1, 1), (1, -1, 1), (1, 1, -1)):
        t = F.conv3d(t, g.view(1, 1, *shape))
    return t


def _local_stats(
    x: torch.Tensor, y: torch.Tensor, blur: Callable[[torch.Tensor], torch.Tensor],
) -> tuple[torch.Tensor, ...]:
    """Gaussian-weighted means, variances and covariance of x and y, all blurred in one call."""
    stacked = torch.cat([x, y, x * x, y * y, x * y], dim=0)
    mu_x, mu_y, xx, yy, xy = blur(stacked).chunk(5, dim=0)
    return mu_x, mu_y, xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y


def _ssim_map(mu_x: torch.Tensor, mu_y: torch.Tensor, var_x: torch.Tensor, var_y: torch.Tensor,
              cov: torch.Tensor) -> torch.Tensor:
    luminance = (2 * mu_x * mu_y + C1) / (mu_x**2 + mu_y**2 + C1)
    structure = (2 * cov + C2) / (var_x + var_y + C2)
    return luminance * structure
