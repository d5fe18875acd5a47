"""The gain curve of a training run as a PNG: test PSNR gain over the blurred input against
training steps (`benchmarks/teacher_curve.py` draws it while a run trains, `tools/package_teacher.py`
across the phases of a shipped teacher)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archc.compiler.files import write_png_atomic


def plot_gain_curve(points: Sequence[Mapping[str, Any]], out: Path, phase_starts: Sequence[int] = ()) -> None:
    """`points` (each with `step` and `gain_db`) as a line, written atomically to `out`; a dashed
    line at each step in `phase_starts` where a later training phase begins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    ax.plot([p["step"] for p in points], [p["gain_db"] for p in points], marker="o", ms=3)
    for start in phase_starts:
        ax.axvline(start, color="grey", ls="--", lw=0.8)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("training step" + (" (all phases; dashed: a phase starts)" if phase_starts else ""))
    ax.set_ylabel("test PSNR gain over blurred input (dB)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    write_png_atomic(out, fig)
