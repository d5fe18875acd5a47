"""One distillation job as a self-contained task: what a worker process needs to train a
surrogate and write its result file, atomically, under `RUN/jobs/`. The result file is the
safetensors of the surrogate (keys `<i>.<name>` for its i-th block) with the job and its
`FitStats` in the metadata; a job is done exactly when its file exists."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from attrs import frozen

from archc.compiler.weights import read_metadata, save_safetensors

from .config import DistillConfig
from .features import boundary_index, feature_path
from .fit import fit
from .plan import Job, job_seed, job_stem

StepReport = Callable[[str, int, float], None]  # (job id, step, loss)


@frozen
class JobTask:
    """Everything a job needs, picklable: the job, where its features and result live, the
    settings, and (for `init="inherit"`) the teacher tensors of the job's blocks keyed as the
    surrogate's (`<i>.<name>`)."""

    job: Job
    features: Path
    result: Path
    cfg: DistillConfig
    teacher: dict[str, torch.Tensor] | None = None

    @property
    def label(self) -> str:
        return self.job.id


def result_path(root: Path, job: Job) -> Path:
    return root / f"{job_stem(job)}.safetensors"


def read_result(path: Path) -> dict[str, Any]:
    """The record of a finished job: {"job_id", "stats": FitStats as a dict, "finished": unix time}."""
    return json.loads(read_metadata(path)["result"])  # type: ignore[no-any-return]


def run_job(task: JobTask, report: StepReport | None = None) -> dict[str, Any]:
    """Train the task's surrogate and write its result file; returns the result's metadata."""
    job, granularity = task.job, task.cfg.granularity
    train, held = (np.load(feature_path(task.features, job.slot, s), mmap_mode="r") for s in ("train", "heldout"))
    boundaries = (boundary_index(granularity, job.offsets[0]), boundary_index(granularity, job.offsets[1]))
    every = max(1, task.cfg.iters // 50)

    def on_step(step: int, loss: float) -> None:
        if report is not None and (step % every == 0 or step == task.cfg.iters):
            report(job.id, step, loss)

    module, stats = fit(job, train, held, boundaries, task.cfg, job_seed(task.cfg.seed, job), task.teacher, on_step)
    record = {"job_id": job.id, "stats": attrs.asdict(stats), "finished": time.time()}
    save_safetensors(module, task.result, {"result": json.dumps(record)})
    return record
