"""Running distillation jobs: one after another in this process, or in a pool of spawned worker
processes (`--jobs J`) whose progress flows back through a queue. Each job runs with one torch
thread unless `--threads` says otherwise: a surrogate block is too small to gain from intra-op
threads, which on a busy machine make it many times slower. Either way every job writes its own
result file (see `worker.py`)."""

from __future__ import annotations

import multiprocessing
import os
import queue as queues
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from attrs import frozen

from archc.dsl.errors import ArchError
from archc.runtime.threads import torch_threads

from .config import DistillConfig
from .errors import DistillError
from .worker import JobTask, init_worker, run_in_worker, run_job


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


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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




def run_here(tasks: Sequence[JobTask], cfg: DistillConfig, on_event: EventCallback | None) -> None:
    """Run the tasks one after another in this process."""
    with torch_threads(threads_per_job(cfg)):
        for task in tasks:
            emit(on_event, Event("start", task.job.id, 0, cfg.iters))
            run_job(task, lambda job, step, loss: emit(on_event, Event("step", job, step, cfg.iters, loss)))
            emit(on_event, Event("done", task.job.id, cfg.iters, cfg.iters))


def _plugin_files() -> tuple[str, ...]:
    """Block plugin files loaded in this process (`archc --plugin`), for the workers to load too."""
    from archc.runtime.blocks.registry import plugin_files

    return plugin_files()


def _drain(progress: Any, cfg: DistillConfig, on_event: EventCallback | None) -> None:
    while True:
        try:
            kind, job, step, loss, _ = progress.get_nowait()
        except queues.Empty:
            return
        emit(on_event, Event(kind, job, step, cfg.iters, loss))


def _result(future: Future[dict[str, Any]], task: JobTask) -> None:
    try:
        future.result()
    except ArchError:
        raise
    except Exception as exc:
        raise DistillError(
            f"surrogate job `{task.job.id}` failed: {type(exc).__name__}: {exc}",
            code="E1111",
            help="rerun with --jobs 1 and --debug to see the traceback",
        ) from exc


def run_pool(tasks: Sequence[JobTask], cfg: DistillConfig, on_event: EventCallback | None) -> None:
    """Run the tasks in `cfg.jobs` spawned processes; progress flows back through a queue."""
    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Queue()
    pool = ProcessPoolExecutor(
        max_workers=min(cfg.jobs, len(tasks)),
        mp_context=ctx,
        initializer=init_worker,
        initargs=(threads_per_job(cfg), progress, _plugin_files()),
    )
    try:
        futures = {pool.submit(run_in_worker, t): t for t in tasks}
        pending: set[Future[dict[str, Any]]] = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            _drain(progress, cfg, on_event)
            for future in done:
                _result(future, futures[future])
                emit(on_event, Event("done", futures[future].job.id, cfg.iters, cfg.iters))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
