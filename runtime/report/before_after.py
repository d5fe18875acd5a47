"""The report's before/after figure: for a few validation crops, the blurred input, the teacher's
restoration, the found network's restoration and the sharp target side by side, each labelled with
its PSNR against the sharp target (NAFNet's metric), plus the same figures as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archc.runtime.data.crops import ValCrops
from archc.runtime.evaluation.metrics import psnr

COLUMNS = ("blurred", "teacher", "found network", "sharp")


def _hwc(image: torch.Tensor) -> np.ndarray:
    return image.clamp(0, 1).float().cpu().numpy().transpose(1, 2, 0)  # type: ignore[no-any-return]


def restore_crops(view: ValCrops, teacher: torch.nn.Module, network: torch.nn.Module,
                  count: int = 3) -> list[dict[str, Any]]:
    """The first `count` crops of `view`: name, the four `H x W x 3` images (COLUMNS order) and the
    PSNR (dB) of the first three against the sharp one."""
    rows = []
    for i in range(min(count, len(view))):
        name, blur, sharp = view[i]
        with torch.inference_mode():
            outs = [m.eval()(blur[None])[0] for m in (teacher, network)]
        images = [_hwc(blur), *(_hwc(o) for o in outs), _hwc(sharp)]
        rows.append({"name": name, "images": images,
                     "psnr": {c: psnr(im, images[-1]) for c, im in zip(COLUMNS[:3], images, strict=False)}})
    return rows


def _title(column: str, row: dict[str, Any]) -> str:
    value = row["psnr"].get(column)
    return f"{column}\n{value:.2f} dB" if value is not None else f"{column}\n(target)"


def plot(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """A `len(rows) x 4` grid of labelled crops, written atomically as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archc.compiler.files import write_png_atomic

    fig, axes = plt.subplots(len(rows), len(COLUMNS), figsize=(2.3 * len(COLUMNS), 2.6 * len(rows)), dpi=100,
                             squeeze=False)
    for r, row in enumerate(rows):
        for c, column in enumerate(COLUMNS):
            ax = axes[r][c]
            ax.imshow(row["images"][c], interpolation="nearest")
            ax.set_title(_title(column, row), fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(row["name"], fontsize=8)
    fig.tight_layout()
    write_png_atomic(path, fig)


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The JSON beside the figure: per-crop PSNRs and their means by column."""
    return {"columns": list(COLUMNS), "crops": [{"name": r["name"], "psnr": r["psnr"]} for r in rows],
            "mean_psnr": {c: float(np.mean([r["psnr"][c] for r in rows])) for c in COLUMNS[:3]} if rows else {}}
