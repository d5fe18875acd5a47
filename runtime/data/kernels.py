"""Random blur kernels: camera-shake trajectories (Boracchi & Foi style) and defocus disks.

The camera-shake model (facts/datasets.md 6.1): a particle moves for `steps` equal steps whose
lengths add up to the trajectory length. Each step turns its velocity by a Gaussian random kick,
pulls it back toward the origin (inertia of a hand holding the camera still), and now and then
reverses it (an impulsive shake, e.g. pressing the shutter); `anxiety` scales all three, so
anxiety 0 is a straight line. The PSF is the time the particle spends near each pixel
(bilinear splatting), normalised to sum 1 and centred on its centre of mass, so the blurred
image is not shifted against its sharp target (as GoPro's target is the middle frame).
"""

from __future__ import annotations

import cmath
import math

import numpy as np
from attrs import frozen
from scipy.signal import fftconvolve


@frozen
class KernelConfig:
    """Ranges the random kernels are drawn from (uniformly unless said otherwise)."""

    length_px: tuple[float, float] = (7.0, 28.0)  # path length of the shake trajectory
    max_anxiety: float = 0.006  # anxiety ~ U(0, max_anxiety): more anxiety, more curvature
    steps: int = 1000  # trajectory samples (equal exposure time each)
    defocus_prob: float = 0.0  # chance of convolving a defocus disk as well
    defocus_radius_px: tuple[float, float] = (1.0, 3.0)


@frozen
class Kernel:
    """A PSF (`k x k`, k odd, float64, sum 1, centre of mass at the centre pixel) and how it
    was drawn. `extent_px` is the largest distance between two trajectory points."""

    psf: np.ndarray
    length_px: float
    extent_px: float
    anxiety: float
    shakes: int
    defocus_radius_px: float


def random_kernel(rng: np.random.Generator, config: KernelConfig) -> Kernel:
    """Draw one kernel: a camera-shake PSF, convolved with a defocus disk with probability
    `config.defocus_prob`."""
    length = float(rng.uniform(*config.length_px))
    anxiety = float(rng.uniform(0.0, config.max_anxiety))
    points, shakes = shake_trajectory(rng, length, anxiety=anxiety, steps=config.steps)
    psf = trajectory_psf(points)
    radius = 0.0
    if rng.random() < config.defocus_prob:
        radius = float(rng.uniform(*config.defocus_radius_px))
        psf = convolve_kernels(psf, defocus_disk(radius))
    return Kernel(psf, length, _extent(points), anxiety, shakes, radius)


def shake_trajectory(
    rng: np.random.Generator,
    length_px: float,
    *,
    anxiety: float,
    steps: int = 1000,
) -> tuple[np.ndarray, int]:
    """A random camera-shake path: `steps x 2` (x, y) points, each step `length_px / (steps - 1)`
    long, and the number of impulsive shakes it made.

    Per trajectory the strengths are drawn as in Boracchi & Foi's defaults: centripetal pull
    0.7 U, Gaussian kick 10 U, shake probability 0.2 U (per step, times anxiety).
    """
    if steps < 2:
        raise ValueError(f"a trajectory needs at least 2 steps, got {steps}")
    step = length_px / (steps - 1)
    centripetal, kick, shake_prob = 0.7 * rng.random(), 10.0 * rng.random(), 0.2 * rng.random()
    kicks = rng.standard_normal((steps, 2)) @ np.array([1.0, 1.0j])
    shake_draws = rng.random(steps)
    shake_turns = rng.uniform(-0.5, 0.5, steps)
    velocity = step * cmath.exp(1j * rng.uniform(0.0, 2 * math.pi))
    position, path, shakes = 0j, [0j], 0
    for t in range(steps - 1):
        turn = 0j
        if shake_draws[t] < shake_prob * anxiety:
            turn = 2 * velocity * cmath.exp(1j * (math.pi + shake_turns[t]))
            shakes += 1
        velocity += turn + anxiety * step * (kick * kicks[t] - centripetal * position)
        velocity *= step / abs(velocity) if velocity != 0 else 1.0
        position += velocity
        path.append(position)
    points = np.array(path)
    return np.stack([points.real, points.imag], axis=1), shakes


def trajectory_psf(points: np.ndarray) -> np.ndarray:
    """Splat `T x 2` (x, y) points bilinearly onto the smallest odd square canvas that holds
    them with the centre of mass on the centre pixel; `k x k` float64 summing to 1."""
    centred = points - points.mean(axis=0)
    half = int(math.ceil(np.abs(centred).max())) + 1
    size = 2 * half + 1
    coords = centred + half
    base = np.floor(coords).astype(np.int64)
    frac = coords - base
    flat = np.zeros(size * size)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        weight = np.abs(1 - dx - frac[:, 0]) * np.abs(1 - dy - frac[:, 1])
        index = (base[:, 1] + dy) * size + (base[:, 0] + dx)
        flat += np.bincount(index, weights=weight, minlength=size * size)
    psf = flat.reshape(size, size)
    return psf / psf.sum()


def defocus_disk(radius_px: float, supersample: int = 8) -> np.ndarray:
    """A uniform disk of radius `radius_px`, anti-aliased by `supersample`^2 samples per pixel;
    `k x k` (k odd) float64 summing to 1."""
    half = int(math.ceil(radius_px))
    fine = (np.arange((2 * half + 1) * supersample) + 0.5) / supersample - (half + 0.5)
    inside = (fine[:, None] ** 2 + fine[None, :] ** 2) <= radius_px**2
    size = 2 * half + 1
    disk = inside.reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    return disk / disk.sum()


def convolve_kernels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The PSF of blurring by `a` then `b` (full convolution; odd sizes stay odd), sum 1."""
    psf = np.clip(fftconvolve(a, b, mode="full"), 0.0, None)
    return psf / psf.sum()


def _extent(points: np.ndarray) -> float:
    """Largest distance between two trajectory points, over a subsample of about 256 of them
    (plus the last) to keep the pairwise comparison small."""
    sample = np.concatenate([points[:: max(1, len(points) // 256)], points[-1:]])
    diffs = sample[:, None, :] - sample[None, :, :]
    return float(np.sqrt((diffs**2).sum(axis=2)).max())
