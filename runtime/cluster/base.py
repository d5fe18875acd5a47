"""The one interface every parallel stage runs its work through.

A stage (distillation, block profiling, search evaluations) hands an executor a function, a list
of work items and one `shared` object (the same for every item: settings, a validation batch),
and collects results as they finish — like `concurrent.futures`, whatever runs them. The stages
never know which backend does: this process, a local pool of spawned processes (`local.py`) or a
Ray cluster (`raycluster.py`).

Work functions are module-level functions `fn(shared, item) -> result` (picklable by reference),
and every item is independent: a backend may run items in any order, on any worker, and run an
item again after its worker died, so a function writes what it produces atomically (the stages
write one result file per item) and a repeated item gives the same result.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from attrs import field, frozen

from archc.errors import ProgressLostWarning

from . import worker

T = TypeVar("T")
R = TypeVar("R")
Work = Callable[[Any, Any], Any]  # fn(shared, item) -> result
ProgressCallback = Callable[[Any], None]

MAX_RETRIES = 3  # a work item whose worker process died is run again at most this often


@frozen
class Resources:
    """What one work item needs: CPUs, a fraction of a GPU, and named custom resources (a phone
    reached over adb is `device:SERIAL` = 1, so it runs one item at a time). The local backends
    schedule by `jobs` alone and ignore them; Ray schedules by them."""

    cpus: float = 1.0
    gpus: float = 0.0
    custom: Mapping[str, float] = field(factory=dict)


@frozen
class WorkerSetup:
    """The state every worker process needs before it runs an item: torch's intra-op thread count
    (fixed by the settings, because the thread count can change results' last bits) and the block
    plugin files the driver loaded (a fresh process knows the built-in blocks only)."""

    threads: int = 1
    plugins: tuple[str, ...] = ()

    def apply(self) -> None:
        worker.setup(self.threads, self.plugins)


class Executor(abc.ABC):
    """Runs `fn(shared, item)` for many items; see the module docstring for the contract."""

    name: str = ""
    workers: int = 1
    schedules_resources = False  # whether items' Resources decide where and when they run

    @abc.abstractmethod
    def map_unordered(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        resources: Resources | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """Yield `(index into items, result)` as each item finishes. Progress a worker reports with
        `archc.runtime.cluster.worker.report(event)` reaches `on_progress` in this process. An
        ArchError raised by an item is raised here as it is; any other exception becomes a
        ClusterError naming the item. Stopping the iteration early cancels what has not started."""

    def gpus(self) -> float:
        """The GPUs this backend can schedule work on (this machine's for the local ones)."""
        from archc.runtime.accel.accelerator import gpu_count

        return float(gpu_count())

    def close(self) -> None:  # noqa: B027 - optional hook; the in-process backend holds nothing
        """Release worker processes or the cluster connection."""

    def describe(self) -> dict[str, Any]:
        """What a run records about where it ran."""
        return {"cluster": self.name, "workers": self.workers}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def warn_progress_lost(where: str, exc: BaseException) -> None:
    """The one warning a backend gives when it loses its progress channel (the run goes on)."""
    warnings.warn(
        f"{where} lost this run's progress channel ({type(exc).__name__}: {exc}); the work goes on, "
        "with fewer progress lines",
        ProgressLostWarning,
        stacklevel=3,
    )
