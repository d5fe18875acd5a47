"""`distill`: every surrogate of a search space, as independent jobs, resumable.

A run folder holds `distill.config.json` (the settings a resumed run must repeat), `features/`
(the teacher's cached slot features, see `features.py`), `jobs/` (one result file per job, written
atomically: a job is done exactly when its file exists) and `surrogates/` (the bank). A killed run
resumes by training only the jobs without a result file. Jobs run in this process (`jobs=1`) or in
a pool of spawned processes, each with max(1, cores // jobs) torch threads.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue as queues
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import torch
from attrs import frozen

from archc.compiler.files import write_text_atomic
from archc.compiler.lower import ArchNet
from archc.dsl.errors import ArchError
from archc.dsl.spec import Spec
from archc.runtime.data.pairs import PairedImages

from .assemble import Provenance, write_bank
from .bank import Bank, file_sha256
from .config import DistillConfig
from .crops import distill_crops
from .errors import DistillError
from .features import cache_features
from .plan import Job, plan_jobs, select_slots
from .worker import JobTask, init_worker, result_path, run_in_worker, run_job

CONFIG_FILE = "distill.config.json"


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


@frozen
class DistillRun:
    out: Path
    bank: Bank
    jobs: tuple[Job, ...]
    trained: tuple[str, ...]  # job ids trained by this call
    reused: tuple[str, ...]  # job ids whose result an earlier call had written
    seconds: float


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_per_job(cfg: DistillConfig) -> int:
    return cfg.threads or max(1, cores() // cfg.jobs)


def feature_threads(cfg: DistillConfig) -> int:
    """Threads of the teacher's feature pass: all the jobs' together. Fixed by the settings, not by
    the caller's torch state, because the thread count can change the features' last bits."""
    return cfg.threads * cfg.jobs if cfg.threads else cores()


def check_run(out: Path, spec: Spec, cfg: DistillConfig, teacher_sha: str) -> None:
    """Write `out/distill.config.json`, or check a resumed run repeats its settings exactly."""
    record = {"spec": spec.name, "teacher_sha256": teacher_sha, "config": cfg.run_key()}
    path = out / CONFIG_FILE
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != record:
            keys = sorted(
                k
                for k in {**old.get("config", {}), **record["config"]}
                if old.get("config", {}).get(k) != record["config"].get(k)
            )
            keys += [k for k in ("spec", "teacher_sha256") if old.get(k) != record[k]]
            raise DistillError(
                f"{out} holds a distillation with other settings ({', '.join(keys)} differ)",
                code="E1102",
                help="repeat the settings to resume it, or pass a new --out folder",
            )
        return
    write_text_atomic(path, json.dumps(record, indent=1) + "\n")


def teacher_tensors(model: ArchNet, job: Job, original_kind: str, cfg: DistillConfig) -> dict[str, torch.Tensor] | None:
    """The teacher's tensors of the job's blocks keyed as the surrogate's, when the job inherits them."""
    if cfg.init != "inherit" or job.kind != original_kind:
        return None
    prefix = model.stage_prefix(job.stage)
    state = model.state_dict()
    out = {}
    for j in range(job.start, job.stop):
        head = f"{prefix}.{j}."
        out.update({f"{j - job.start}.{k[len(head) :]}": v.clone() for k, v in state.items() if k.startswith(head)})
    return out


def prepare_features(
    spec: Spec,
    teacher: ArchNet,
    pairs: PairedImages,
    out: Path,
    cfg: DistillConfig,
    slot_names: Sequence[str],
    on_event: EventCallback | None,
) -> None:
    if not slot_names:
        return
    train, held = distill_crops(pairs, cfg.fraction, cfg.crops_per_image, cfg.crop, cfg.seed)

    def on_batch(done: int, total: int) -> None:
        if on_event is not None:
            on_event(Event("features", step=done, total=total))

    slots = select_slots(spec, slot_names)
    cache_features(teacher, spec, slots, {"train": train, "heldout": held}, out / "features", cfg.granularity, on_batch)


def _emit(on_event: EventCallback | None, event: Event) -> None:
    if on_event is not None:
        on_event(event)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_here(tasks: Sequence[JobTask], cfg: DistillConfig, on_event: EventCallback | None) -> None:
    """Run the tasks one after another in this process."""
    with torch_threads(threads_per_job(cfg)):
        for task in tasks:
            _emit(on_event, Event("start", task.job.id, 0, cfg.iters))
            run_job(task, lambda job, step, loss: _emit(on_event, Event("step", job, step, cfg.iters, loss)))
            _emit(on_event, Event("done", task.job.id, cfg.iters, cfg.iters))


def _plugin_files() -> tuple[str, ...]:
    """Block plugin files loaded in this process (`archc --plugin`), for the workers to load too."""
    return tuple(
        str(m.__file__)
        for n, m in sorted(sys.modules.items())
        if n.startswith("archc_plugin_") and getattr(m, "__file__", None)
    )


def _drain(progress: Any, cfg: DistillConfig, on_event: EventCallback | None) -> None:
    while True:
        try:
            kind, job, step, loss, _ = progress.get_nowait()
        except queues.Empty:
            return
        _emit(on_event, Event(kind, job, step, cfg.iters, loss))


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
                _emit(on_event, Event("done", futures[future].job.id, cfg.iters, cfg.iters))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def distill(
    spec: Spec,
    teacher: ArchNet,
    teacher_file: str | Path,
    pairs: PairedImages,
    out: str | Path,
    cfg: DistillConfig,
    slots: Sequence[str] | None = None,
    on_event: EventCallback | None = None,
) -> DistillRun:
    """Train every missing surrogate of the selected slots (all when None) and write the bank.

    `teacher` is the network of `spec` with the weights of `teacher_file`; it stays frozen (it only
    computes features). Raises DistillError for bad settings or a run folder made with others.
    """
    start, run = time.perf_counter(), Path(out)
    cfg.check()
    jobs = plan_jobs(spec, slots, cfg.granularity)
    teacher_sha = file_sha256(teacher_file)
    check_run(run, spec, cfg, teacher_sha)
    pending = [j for j in jobs if not result_path(run / "jobs", j).exists()]
    for job in jobs:
        if job not in pending:
            _emit(on_event, Event("skip", job.id, cfg.iters, cfg.iters))
    prepare_features(spec, teacher, pairs, run, cfg, sorted({j.slot for j in pending}), on_event)
    originals = {s.name: s.original.kind for s in select_slots(spec, slots)}
    tasks = [
        JobTask(
            j, run / "features", result_path(run / "jobs", j), cfg, teacher_tensors(teacher, j, originals[j.slot], cfg)
        )
        for j in pending
    ]
    if tasks:
        (run_here if cfg.jobs == 1 or len(tasks) == 1 else run_pool)(tasks, cfg, on_event)
    train_crops = distill_crops(pairs, cfg.fraction, cfg.crops_per_image, cfg.crop, cfg.seed)[0].count
    bank = write_bank(spec, run, Provenance(cfg, teacher_sha, str(teacher_file), train_crops))
    reused = tuple(j.id for j in jobs if j not in pending)
    return DistillRun(run, bank, jobs, tuple(j.id for j in pending), reused, time.perf_counter() - start)
