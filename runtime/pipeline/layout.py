"""Where a run folder keeps each stage's results, and the file that marks a stage done.

RUN/data/meta.json                 data (a synthetic blur set, when no dataset is given)
RUN/teacher/weights.safetensors    teacher (trained, when no weights are given)
RUN/saliency/saliency.json         saliency
RUN/profile/latency.json           profile (done when its status is complete)
RUN/distill/distill.json           distill (surrogates in RUN/distill/surrogates)
RUN/search/search.json             search
RUN/export/export.json             export
RUN/verify/verify.json             verify
RUN/report.html, RUN/report.md     report
"""

from __future__ import annotations

import json
from pathlib import Path

MARKERS = {
    "data": "data/meta.json",
    "teacher": "teacher/weights.safetensors",
    "saliency": "saliency/saliency.json",
    "profile": "profile/latency.json",
    "distill": "distill/distill.json",
    "search": "search/search.json",
    "export": "export/export.json",
    "verify": "verify/verify.json",
    "report": "report.html",
}


def folder(run_dir: Path, given: str | Path | None, stage: str) -> Path:
    """The folder a stage writes: `given` when set, else RUN/<stage>."""
    return Path(given) if given is not None else Path(run_dir) / stage


def teacher_weights(run_dir: Path, given: str | Path | None) -> str:
    """The teacher's weights file: `given` (`pretrained:NAME` turned into its path, so every stage,
    worker and record downstream sees a plain file), else the run's own RUN/teacher."""
    from archc.compiler.pretrained import resolve

    return str(resolve(given)) if given is not None else str(Path(run_dir) / MARKERS["teacher"])


def dataset(run_dir: Path, given: str | Path | None) -> str:
    return str(given) if given is not None else str(Path(run_dir) / "data")


def done(path: Path | None) -> bool:
    """Whether the marker `path` says its stage is done (a block table only when complete)."""
    if path is None or not path.is_file():
        return False
    if path.name == "latency.json":
        return bool(json.loads(path.read_text()).get("status") == "complete")
    return True
