"""The local backends: items one after another in this process, or a pool of spawned processes.

The pool survives a worker that dies (killed, out of memory): the broken pool is replaced and the
items that had not finished are run again, at most `MAX_RETRIES` times, so a killed worker loses
nothing that had finished and repeats only what it was running. A worker exits by itself when the
driver is gone (a killed driver must not leave workers waiting on its queue).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from archc.errors import ArchError, ClusterError
from archc.runtime.accel.threads import torch_threads

from . import worker
from .base import MAX_RETRIES, Executor, ProgressCallback, Resources, Work, WorkerSetup, warn_progress_lost

ORPHAN_CHECK_SECONDS = 1.0
POLL_SECONDS = 0.25


def item_label(item: Any) -> str:
    """How an error names a work item: its `label` when it has one, else a short repr."""
    label = getattr(item, "label", None)
    return str(label) if label is not None else repr(item)[:80]


def failed(item: Any, exc: BaseException) -> ArchError:
    """An item's exception as the error the driver raises: ArchErrors pass unchanged."""
    if isinstance(exc, ArchError):
        return exc
    return ClusterError(
        f"work item `{item_label(item)}` failed: {type(exc).__name__}: {exc}",
        code="E1701",
        help="rerun with --jobs 1 and --debug to see the traceback",
    )


class InlineExecutor(Executor):
    """Every item in this process, in order, with the setup's thread count (restored after)."""

    name = "inline"

    def __init__(self, setup: WorkerSetup | None = None) -> None:
        self.setup = setup or WorkerSetup()

    def map_unordered(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        resources: Resources | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[tuple[int, Any]]:
        for i, item in enumerate(items):
            before = worker.set_channel(on_progress)
            try:
                with torch_threads(self.setup.threads):
                    result = fn(shared, item)
            except ArchError:
                raise
            except Exception as exc:
                raise failed(item, exc) from exc
            finally:
                worker.set_channel(before)
            yield i, result


def _init_pool_worker(setup: WorkerSetup, progress: Any, parent: int) -> None:
    setup.apply()
    worker.set_channel(_sender(progress))
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _sender(progress: Any) -> Callable[[Any], None]:
    """`progress.put`, except that a failed send drops the event: progress never fails an item."""

    def send(event: Any) -> None:
        try:
            progress.put(event)
        except Exception:  # noqa: BLE001 - a broken channel costs progress lines, not the item
            return

    return send


def _exit_with_parent(parent: int) -> None:
    """A killed driver leaves its pool's workers waiting forever on the call queue (they hold its
    write end too): exit as soon as the driver is gone."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(1)


def _call(fn: Work, shared: Any, item: Any) -> Any:
    return fn(shared, item)


class PoolExecutor(Executor):
    """`jobs` spawned worker processes on this machine; progress flows back through a queue."""

    name = "local"

    def __init__(self, jobs: int, setup: WorkerSetup | None = None) -> None:
        self.workers = jobs
        self.setup = setup or WorkerSetup()
        self._ctx = multiprocessing.get_context("spawn")
        self._progress: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self._lost = False

    def _fresh_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        # A new queue with every pool: a worker killed while it wrote an event can leave the old
        # queue's write lock taken, and every other writer would wait on it forever. A
        # SimpleQueue's put writes to the pipe before it returns, so an item's progress is
        # readable here before its result is: a final drain sees every event.
        self._progress = self._ctx.SimpleQueue()
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._ctx,
            initializer=_init_pool_worker,
            initargs=(self.setup, self._progress, os.getpid()),
        )
        return self._pool

    def _drain(self, on_progress: ProgressCallback | None) -> None:
        while self._progress is not None and not self._progress.empty():
            try:
                event = self._progress.get()
            except (EOFError, OSError) as exc:  # the pipe is gone: no worker can write to it either
                self._progress = None
                self._lose(exc)
                return
            except Exception as exc:  # noqa: BLE001 - one unreadable event; the pipe reads on
                self._lose(exc)
                continue
            if on_progress is not None:  # an exception the callback raises is the driver's own
                on_progress(event)

    def _lose(self, exc: BaseException) -> None:
        if not self._lost:
            self._lost = True
            warn_progress_lost("the local worker pool", exc)

    def map_unordered(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        resources: Resources | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[tuple[int, Any]]:
        todo = set(range(len(items)))
        for _ in range(MAX_RETRIES + 1):
            pool = self._pool or self._fresh_pool()
            futures = {pool.submit(_call, fn, shared, items[i]): i for i in sorted(todo)}
            try:
                yield from self._collect(futures, items, todo, on_progress)
                return
            except BrokenProcessPool:
                self._drain(on_progress)
                self._fresh_pool()  # a worker died: run what had not finished again
        raise ClusterError(
            f"worker processes died {MAX_RETRIES + 1} times running {len(todo)} item(s), "
            f"the first `{item_label(items[min(todo)])}`",
            code="E1702",
            help="check memory (a worker killed by the OOM killer dies without a message) or use fewer --jobs",
        )

    def _collect(
        self,
        futures: dict[Future[Any], int],
        items: Sequence[Any],
        todo: set[int],
        on_progress: ProgressCallback | None,
    ) -> Iterator[tuple[int, Any]]:
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                self._drain(on_progress)
                for future in done:
                    i = futures[future]
                    exc = future.exception()
                    if isinstance(exc, BrokenProcessPool):
                        raise exc
                    if exc is not None:
                        raise failed(items[i], exc) from exc
                    todo.discard(i)
                    self._drain(on_progress)
                    yield i, future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
