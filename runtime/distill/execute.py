"""Running distillation jobs through an execution backend (`archc.runtime.cluster`): in this
process, in a pool of spawned processes (`--jobs J`), or as Ray tasks (`--cluster ray`). Each job
runs with one torch thread unless `--threads` says otherwise: a surrogate block is too small to
gain from intra-op threads, which on a busy machine make it many times slower. Wherever it runs,
a job reads the teacher features from the run folder and writes its own result file there (see
`worker.py`), so a job is done exactly when its file exists, on any backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attrs import frozen

from archc.runtime.cluster import ClusterError, Executor, Resources, WorkerSetup, cores, open_executor, report

from .config import DistillConfig
from .worker import JobTask, run_job

GPU_SHARE = 0.25  # of one GPU per job: a surrogate block uses a small part of a modern GPU


@frozen
class Event:
    """Progress: `kind` is "features" (step/total crops done), "skip" (a job already done),
    "start", "step" (step/total of `job`, with its loss) or "done"."""

    kind: str
    job: str | None = None
    step: int = 0
    total: int = 0
    loss: float | None = None


EventCallback = Callable[[Event], None]


def threads_per_job(cfg: DistillConfig) -> int:
    return cfg.threads or 1


def feature_threads(cfg: DistillConfig) -> int:
    """Threads of the teacher's feature pass: `--threads` when given, else every core. Fixed by the
    settings (not by the caller's torch state, nor by --jobs) because the thread count can change
    the features' last bits, and the same seed and threads must give the same surrogates."""
    return cfg.threads or cores()


def emit(on_event: EventCallback | None, event: Event) -> None:
    if on_event is not None:
        on_event(event)


def worker_setup(cfg: DistillConfig) -> WorkerSetup:
    from archc.compiler.blocks import plugin_files

    return WorkerSetup(threads_per_job(cfg), plugin_files())


def job_resources(cfg: DistillConfig, gpus: float) -> Resources:
    """One job's share of a node: its threads, and a fraction of a GPU when it trains on one
    (`cuda`, or `auto` on a backend with `gpus` > 0)."""
    wants = cfg.accelerator.startswith("cuda") or (cfg.accelerator == "auto" and gpus > 0)
    return Resources(cpus=float(threads_per_job(cfg)), gpus=GPU_SHARE if wants else 0.0)


def default_executor(cfg: DistillConfig, tasks: int) -> Executor:
    """Today's local backend: this process for one job or `--jobs 1`, else a pool of `--jobs`."""
    return open_executor("local", min(cfg.jobs, tasks), worker_setup(cfg))


def train_job(_: Any, task: JobTask) -> dict[str, Any]:
    """The work function of one job, wherever it runs."""
    if not task.features.is_dir():
        raise ClusterError(
            f"the teacher features {task.features} are not visible where job `{task.job.id}` runs",
            code="E1707",
            help="put the run folder (--out) on a filesystem every node mounts at the same path",
        )
    report(("start", task.job.id, 0, 0.0))
    return run_job(task, lambda job_id, step, loss: report(("step", job_id, step, loss)))


def run_jobs(tasks: Sequence[JobTask], cfg: DistillConfig, executor: Executor, on_event: EventCallback | None) -> None:
    """Train every task on `executor`, reporting start, steps and completion as events."""

    def on_progress(event: tuple[str, str, int, float]) -> None:
        kind, job, step, loss = event
        emit(on_event, Event(kind, job, step, cfg.iters, loss))

    results = executor.map_unordered(train_job, tasks, None, job_resources(cfg, executor.gpus()), on_progress)
    for i, _ in results:
        emit(on_event, Event("done", tasks[i].job.id, cfg.iters, cfg.iters))
