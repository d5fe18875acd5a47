"""`distill`: every surrogate of a search space, as independent jobs, resumable.

A run folder holds `distill.config.json` (the settings a resumed run must repeat), `features/`
(the teacher's cached slot features, see `features.py`), `jobs/` (one result file per job, written
atomically: a job is done exactly when its file exists) and `surrogates/` (the bank). A killed run
resumes by training only the jobs without a result file. Jobs run in this process (`jobs=1`) or in
a pool of spawned processes, each with max(1, cores // jobs) torch threads.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from attrs import frozen

from archc.compiler.files import write_text_atomic
from archc.compiler.lower import ArchNet
from archc.dsl.spec import Spec
from archc.errors import DistillError
from archc.runtime.accel.accelerator import resolve_here
from archc.runtime.accel.threads import torch_threads
from archc.runtime.cluster import Executor
from archc.runtime.data.pairs import PairedImages

from .assemble import Provenance, write_bank
from .bank import Bank, file_sha256
from .config import DistillConfig
from .crops import distill_crops
from .execute import Event, EventCallback, default_executor, emit, feature_threads, run_jobs
from .features import cache_features
from .plan import Job, plan_jobs, select_slots
from .worker import JobTask, result_path

CONFIG_FILE = "distill.config.json"


@frozen
class DistillRun:
    out: Path
    bank: Bank
    jobs: tuple[Job, ...]
    trained: tuple[str, ...]  # job ids trained by this call
    reused: tuple[str, ...]  # job ids whose result an earlier call had written
    seconds: float


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
    device = resolve_here(cfg.accelerator)  # the driver's, which may lack the workers' accelerator
    with torch_threads(feature_threads(cfg)):
        cache_features(
            teacher, spec, slots, {"train": train, "heldout": held}, out / "features", cfg.granularity, on_batch,
            device,
        )


def distill(
    spec: Spec,
    teacher: ArchNet,
    teacher_file: str | Path,
    pairs: PairedImages,
    out: str | Path,
    cfg: DistillConfig,
    slots: Sequence[str] | None = None,
    on_event: EventCallback | None = None,
    executor: Executor | None = None,
) -> DistillRun:
    """Train every missing surrogate of the selected slots (all when None) and write the bank.

    `teacher` is the network of `spec` with the weights of `teacher_file`; it stays frozen (it only
    computes features). The jobs run on `executor` (default: this process, or a pool of
    `cfg.jobs` processes); its workers reach the features and write their results in `out`.
    Raises DistillError for bad settings or a run folder made with others.
    """
    start, run = time.perf_counter(), Path(out)
    cfg.check()
    with run_lock(run):
        return _distill(spec, teacher, teacher_file, pairs, run, cfg, slots, on_event, start, executor)


@contextlib.contextmanager
def run_lock(run: Path) -> Iterator[None]:
    """Hold `run/.lock` (an advisory lock the OS drops when the process dies, even by SIGKILL), so
    two runs never train into one folder at once."""
    run.mkdir(parents=True, exist_ok=True)
    with open(run / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DistillError(
                f"another `archc distill` is running on {run}",
                code="E1112",
                help="wait for it to finish, or pass another --out folder",
            ) from None
        yield


def _distill(
    spec: Spec,
    teacher: ArchNet,
    teacher_file: str | Path,
    pairs: PairedImages,
    run: Path,
    cfg: DistillConfig,
    slots: Sequence[str] | None,
    on_event: EventCallback | None,
    start: float,
    executor: Executor | None = None,
) -> DistillRun:
    jobs = plan_jobs(spec, slots, cfg.granularity)
    teacher_sha = file_sha256(teacher_file)
    check_run(run, spec, cfg, teacher_sha)
    pending = [j for j in jobs if not result_path(run / "jobs", j).exists()]
    for job in jobs:
        if job not in pending:
            emit(on_event, Event("skip", job.id, cfg.iters, cfg.iters))
    prepare_features(spec, teacher, pairs, run, cfg, sorted({j.slot for j in pending}), on_event)
    originals = {s.name: s.original.kind for s in select_slots(spec, slots)}
    tasks = [
        JobTask(
            j, run / "features", result_path(run / "jobs", j), cfg, teacher_tensors(teacher, j, originals[j.slot], cfg)
        )
        for j in pending
    ]
    if tasks:
        if executor is not None:
            run_jobs(tasks, cfg, executor, on_event)
        else:
            with default_executor(cfg, len(tasks)) as ex:
                run_jobs(tasks, cfg, ex, on_event)
    train_crops = distill_crops(pairs, cfg.fraction, cfg.crops_per_image, cfg.crop, cfg.seed)[0].count
    bank = write_bank(spec, run, Provenance(cfg, teacher_sha, str(teacher_file), train_crops))
    reused = tuple(j.id for j in jobs if j not in pending)
    return DistillRun(run, bank, jobs, tuple(j.id for j in pending), reused, time.perf_counter() - start)
