"""A synthetic motion-blur dataset in GoPro layout, built offline from packaged photographs.

`synthesize(out_dir, images=11, seed=0)` writes

    <out>/train/<photo>/blur/000001.png   <out>/train/<photo>/sharp/000001.png   ...
    <out>/test/<photo>/...                <out>/meta.json

Each source photograph is one scene and belongs to one split only. The test split holds the
same three colour photographs whatever the seed (an animal close-up, a still life, an outdoor
scene with sky), so test scores of sets with different seeds stay comparable; the seed picks
the training photographs, the crops, the kernels and the noise. From each training photograph
`crops_per_image` random `crop x crop` windows are cut (`test_crops_per_image` from each test
photograph; pair k of a photograph does not depend on how many are cut, so a larger training
set leaves the test split byte-identical); each is blurred by its own random
kernel (`kernels.py`) in linear light (gamma 2.2 undone, convolved, gamma applied again, as
GoPro's `blur_gamma` frames were averaged). Poisson-Gaussian sensor noise is added before the
gamma is applied again, because the noise model is defined on linear intensities; the result
is quantised to 8 bits. The window is convolved with a margin of real
neighbouring pixels (reflected only at the photograph's own border), so crops have no dark or
wrapped edges. Everything is drawn from numpy Generators seeded by (seed, ...), so a seed gives
byte-identical files; `meta.json` holds no timings for that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from attrs import frozen
from scipy.signal import fftconvolve

from archc.errors import DataError
from archc.runtime.evaluation.metrics import psnr

from .images import quantize, write_image
from .kernels import Kernel, KernelConfig, random_kernel
from .photos import CATALOGUE, load_photo, photo_names

GENERATOR = "archc.runtime.data.synth"
SPLITS = ("train", "test")
DEFAULT_TEST_PHOTOS = ("chelsea", "coffee", "rocket")
Progress = Callable[[int, int, str], None]


@frozen
class BlurConfig:
    """How a sharp crop is degraded: kernel ranges, light model, noise (linear-light units)."""

    kernel: KernelConfig = KernelConfig()
    gamma: float = 2.2
    linear_light: bool = True
    shot_noise: float = 1e-4  # Poisson gain K ~ U(0.5, 1.5) x this: var = K x intensity
    read_noise: float = 1e-3  # Gaussian std ~ U(0.5, 1.5) x this


@frozen
class SynthSummary:
    """What `synthesize` wrote: pairs and mean blurred-vs-sharp PSNR (dB) per split."""

    out_dir: Path
    pairs: dict[str, int]
    mean_psnr: dict[str, float]
    sources: dict[str, tuple[str, ...]]
    seconds: float


def synthesize(
    out_dir: str | Path,
    images: int = 11,
    seed: int = 0,
    *,
    test_photos: Sequence[str] = DEFAULT_TEST_PHOTOS,
    crops_per_image: int = 48,
    test_crops_per_image: int = 8,
    crop: int = 256,
    blur: BlurConfig | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> SynthSummary:
    """Write a synthetic GoPro-layout blur set to `out_dir` (see the module docstring).

    `images` source photographs (of the 14 in `photos.CATALOGUE`), `test_photos` among them
    held out for the test split; the default strength puts the test split's blurred input at
    about 25 dB PSNR against sharp (seed 0: 25.05 dB). `progress(done, total, label)` is called
    after every pair. The set is built in a hidden sibling folder and renamed into place when complete.
    """
    started = time.perf_counter()
    blur = blur or BlurConfig()
    out = Path(out_dir)
    crops = {"train": crops_per_image, "test": test_crops_per_image}
    _check_counts(images, tuple(test_photos), crops, crop)
    splits = choose_photos(images, seed, test_photos)
    staging = _prepare_output(out, overwrite)
    try:
        records = _write_splits(staging, splits, seed, crops, crop, blur, progress)
        meta = _meta(seed, splits, records, crops, crop, blur)
        _write_json(staging / "meta.json", meta)
        _publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # never leave a half-written set behind
        raise
    return SynthSummary(
        out,
        {s: meta["splits"][s]["pairs"] for s in SPLITS},
        {s: meta["splits"][s]["mean_psnr_db"] for s in SPLITS},
        {s: tuple(splits[s]) for s in SPLITS},
        time.perf_counter() - started,
    )


def choose_photos(images: int, seed: int, test_photos: Sequence[str] = DEFAULT_TEST_PHOTOS) -> dict[str, list[str]]:
    """Disjoint train and test lists of `images` photographs in all: `test_photos`, and for
    training the other colour photographs before grey ones, in an order drawn from `seed`."""
    rng = np.random.default_rng([seed, 0])
    colour = [n for n in photo_names(colour=True) if n not in test_photos]
    grey = [n for n in photo_names(colour=False) if n not in test_photos]
    train = [colour[i] for i in rng.permutation(len(colour))]
    train += [grey[i] for i in rng.permutation(len(grey))]
    return {"train": train[: images - len(test_photos)], "test": list(test_photos)}


def blur_image(image: np.ndarray, psf: np.ndarray, *, gamma: float = 2.2, linear_light: bool = True) -> np.ndarray:
    """Convolve `(H+k-1) x (W+k-1) x 3` float in [0, 1] with a `k x k` PSF, keeping only
    positions the PSF covers fully: `H x W x 3`, in linear light (x^gamma before, x^(1/gamma)
    after) or, with `linear_light` False, directly on the stored values."""
    return _from_linear(_blur_linear(_to_linear(image, gamma, linear_light), psf), gamma, linear_light)


def add_sensor_noise(linear: np.ndarray, rng: np.random.Generator, *, shot: float, read: float) -> np.ndarray:
    """Poisson-Gaussian noise on linear intensities: K Poisson(x / K) + N(0, sigma^2)."""
    if shot > 0:
        linear = shot * rng.poisson(np.clip(linear, 0.0, None) / shot)
    if read > 0:
        linear = linear + rng.normal(0.0, read, linear.shape)
    return linear


# --- the pipeline ---------------------------------------------------------------------------


def _check_counts(images: int, test_photos: tuple[str, ...], crops: dict[str, int], crop: int) -> None:
    unknown = [n for n in test_photos if n not in photo_names()]
    problems = [
        (bool(unknown), f"unknown test photograph(s): {', '.join(unknown)}; choose from {', '.join(photo_names())}"),
        (len(set(test_photos)) != len(test_photos), f"test photographs repeat: {test_photos}"),
        (not test_photos, "at least one test photograph is needed"),
        (
            not len(test_photos) < images <= len(CATALOGUE),
            f"images must be {len(test_photos) + 1}..{len(CATALOGUE)} with "
            f"{len(test_photos)} test photographs, got {images}",
        ),
        (crops["train"] < 1, f"crops_per_image must be at least 1, got {crops['train']}"),
        (crops["test"] < 1, f"test_crops_per_image must be at least 1, got {crops['test']}"),
        (crop < 16, f"crop must be at least 16 pixels, got {crop}"),
    ]
    for bad, message in problems:
        if bad:
            raise DataError(message, code="E0511", help="see `archc data synth --help`")


def _write_splits(
    root: Path,
    splits: dict[str, list[str]],
    seed: int,
    crops: dict[str, int],
    crop: int,
    blur: BlurConfig,
    progress: Progress | None,
) -> list[dict[str, Any]]:
    total = sum(len(names) * crops[split] for split, names in splits.items())
    records: list[dict[str, Any]] = []
    for split in SPLITS:
        for name in splits[split]:
            photo = load_photo(name)
            for k in range(crops[split]):
                records.append(_write_pair(root, split, name, photo, k, seed, crop, blur))
                if progress is not None:
                    progress(len(records), total, f"{split}/{name}/{k + 1:06d}")
    return records


def _write_pair(
    root: Path, split: str, name: str, photo: np.ndarray, k: int, seed: int, crop: int, blur: BlurConfig
) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 1, photo_names().index(name), k])
    kernel = random_kernel(rng, blur.kernel)
    top, left = _crop_origin(rng, photo, crop, name)
    sharp = photo[top : top + crop, left : left + crop]
    region = _with_margin(photo, top, left, crop, kernel.psf.shape[0] // 2)
    shot, read = (float(rng.uniform(0.5, 1.5) * n) for n in (blur.shot_noise, blur.read_noise))
    linear = _blur_linear(_to_linear(region, blur.gamma, blur.linear_light), kernel.psf)
    noisy = add_sensor_noise(linear, rng, shot=shot, read=read)
    blurred = quantize(_from_linear(noisy, blur.gamma, blur.linear_light), 8)
    frame = f"{k + 1:06d}.png"
    for folder, image in (("blur", blurred), ("sharp", sharp)):
        (root / split / name / folder).mkdir(parents=True, exist_ok=True)
        write_image(root / split / name / folder / frame, image, compress_level=1)  # speed over size
    return _record(split, name, frame, (top, left), kernel, shot, read, psnr(blurred, sharp))


def _crop_origin(rng: np.random.Generator, photo: np.ndarray, crop: int, name: str) -> tuple[int, int]:
    height, width = photo.shape[:2]
    if crop > min(height, width):
        raise DataError(
            f"photograph `{name}` is {width}x{height}, smaller than the {crop}px crop",
            code="E0511",
            help="use a smaller --crop",
        )
    return int(rng.integers(0, height - crop + 1)), int(rng.integers(0, width - crop + 1))


def _with_margin(photo: np.ndarray, top: int, left: int, crop: int, margin: int) -> np.ndarray:
    """The crop window grown by `margin` on every side, float in [0, 1]; pixels past the
    photograph's border are reflected."""
    padded = np.pad(photo, ((margin, margin), (margin, margin), (0, 0)), mode="reflect")
    window = padded[top : top + crop + 2 * margin, left : left + crop + 2 * margin]
    return window.astype(np.float64) / 255.0


def _to_linear(image: np.ndarray, gamma: float, linear_light: bool) -> np.ndarray:
    return np.power(image, gamma) if linear_light else image


def _from_linear(image: np.ndarray, gamma: float, linear_light: bool) -> np.ndarray:
    image = np.clip(image, 0.0, 1.0)
    return np.power(image, 1.0 / gamma) if linear_light else image


def _blur_linear(image: np.ndarray, psf: np.ndarray) -> np.ndarray:
    blurred = fftconvolve(image, psf[:, :, None], mode="valid", axes=(0, 1))
    return np.clip(blurred, 0.0, None)  # FFT round-off can dip just below zero


# --- meta.json and the output folder --------------------------------------------------------


def _record(
    split: str, name: str, frame: str, origin: tuple[int, int], kernel: Kernel, shot: float, read: float, score: float
) -> dict[str, Any]:
    return {
        "split": split,
        "scene": name,
        "frame": frame,
        "crop_top_left": list(origin),
        "kernel_size": int(kernel.psf.shape[0]),
        "length_px": round(kernel.length_px, 3),
        "extent_px": round(kernel.extent_px, 3),
        "anxiety": round(kernel.anxiety, 6),
        "shakes": kernel.shakes,
        "defocus_radius_px": round(kernel.defocus_radius_px, 3),
        "shot_noise": shot,
        "read_noise": read,
        "psnr_db": round(score, 4),
    }


def _meta(
    seed: int,
    splits: dict[str, list[str]],
    records: list[dict[str, Any]],
    crops: dict[str, int],
    crop: int,
    blur: BlurConfig,
) -> dict[str, Any]:
    per_split = {}
    for split in SPLITS:
        rows = [r for r in records if r["split"] == split]
        per_split[split] = {
            "sources": splits[split],
            "pairs": len(rows),
            "mean_psnr_db": round(float(np.mean([r["psnr_db"] for r in rows])), 4),
            "length_px": _stats([r["length_px"] for r in rows]),
            "extent_px": _stats([r["extent_px"] for r in rows]),
        }
    return {
        "generator": GENERATOR,
        "format": 1,
        "layout": "gopro",
        "seed": seed,
        "crop": crop,
        "crops_per_image": crops["train"],
        "test_crops_per_image": crops["test"],
        "blur": attrs.asdict(blur),
        "splits": per_split,
        "images": records,
    }


def _stats(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "mean": round(float(np.mean(values)), 3), "max": round(max(values), 3)}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _prepare_output(out: Path, overwrite: bool) -> Path:
    """Check that `out` may be (re)written; return a fresh hidden staging folder beside it."""
    used = out.exists() and (not out.is_dir() or any(out.iterdir()))
    if used and not (overwrite and _is_synth_set(out)):
        raise DataError(
            f"output folder {out} exists and is not empty",
            code="E0512",
            help="choose another --out, or pass --overwrite to replace a set that `archc data synth` wrote",
        )
    staging = out.parent / f".{out.name}.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def _is_synth_set(folder: Path) -> bool:
    try:
        return json.loads((folder / "meta.json").read_text()).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def _publish(staging: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    os.replace(staging, out)
