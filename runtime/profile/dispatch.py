"""Profiling many workloads at once, through an execution backend, as far as the device allows.

Where a profile runs depends on the device (`Profiler.resources()`):
- measured on this machine (`cpu`, `torch-cpu`): here, one at a time. Two timings on one machine
  at once disturb each other, and a worker elsewhere would time another machine.
- a phone over adb: a task holding `device:SERIAL`, so a phone runs one profile at a time while
  several phones (or a phone and a modelled device) work together. Only a backend that schedules
  resources (Ray) dispatches them; the local pool, which cannot, runs them here in turn.
- modelled devices and hosted device farms: any worker, as many at once as the backend runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from archc.runtime.cluster import Executor

from .backend import Profiler
from .workload import Workload

OnMeasured = Callable[[Workload, dict[str, Any]], None]  # (workload, Measurement.to_json())


def profile_item(profiler: Profiler, workload: Workload) -> dict[str, Any]:
    """The work function of one profile, wherever it runs."""
    return profiler.profile(workload).to_json()


def dispatched(profiler: Profiler, executor: Executor | None) -> bool:
    """Whether `executor` may run this device's profiles in parallel (see the module docstring)."""
    res = profiler.resources()
    if executor is None or res is None:
        return False
    return executor.schedules_resources or not res.custom


def profile_all(profiler: Profiler, workloads: Sequence[Workload], executor: Executor | None,
                on_measured: OnMeasured) -> None:
    """Profile every workload, calling `on_measured` as each figure arrives (in order when here)."""
    if not dispatched(profiler, executor):
        for w in workloads:
            on_measured(w, profile_item(profiler, w))
        return
    assert executor is not None
    for i, measurement in executor.map_unordered(profile_item, workloads, profiler, profiler.resources()):
        on_measured(workloads[i], measurement)
