"""A gate for the tests that kill a Ray worker or the progress actor mid-run: every work item
first records its worker's pid, reports one event and waits (bounded) until the driver opens the
gate. The driver then kills what it means to while every item is still pending, so the run
always goes on after the kill, however fast the machine is."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from archc.runtime.cluster import Executor, Resources, report
from archc.runtime.cluster.base import ProgressCallback, Work

GATE_SECONDS = 60.0  # an item waits at most this long for the driver to open the gate
GATE_EVENT = ("gate", "", 0, 0.0)  # shaped like distillation's (kind, job, step, loss) events


def waiting_pids(gate: Path) -> list[int]:
    """The worker processes that wait at the gate (or waited, before they were killed)."""
    return sorted(int(p.name.removeprefix("waiting-")) for p in gate.glob("waiting-*"))


def open_gate(gate: Path) -> None:
    (gate / "open").touch()


def gated(gate: str, fn: Work, shared: Any, item: Any) -> Any:
    """Run `fn(shared, item)` once the gate is open; raises if it stays shut for GATE_SECONDS."""
    folder = Path(gate)
    if not (folder / "open").exists():
        (folder / f"waiting-{os.getpid()}").touch()
        report(GATE_EVENT)
        deadline = time.monotonic() + GATE_SECONDS
        while not (folder / "open").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gate {gate} stayed shut for {GATE_SECONDS:.0f} s")
            time.sleep(0.02)
    return fn(shared, item)


class GatedExecutor(Executor):
    """Another executor whose every work item passes the gate in `gate` (a folder) first."""

    def __init__(self, inner: Executor, gate: Path) -> None:
        self.inner, self.gate = inner, gate
        self.name, self.workers = inner.name, inner.workers
        self.schedules_resources = inner.schedules_resources

    def map_unordered(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        resources: Resources | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[tuple[int, Any]]:
        return self.inner.map_unordered(partial(gated, str(self.gate), fn), items, shared, resources, on_progress)

    def gpus(self) -> float:
        return self.inner.gpus()

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()
