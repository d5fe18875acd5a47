"""Execution backends: where the parallel work of distill, profile and search runs.

`open_executor("local", jobs=J)` runs items in this process (J = 1) or in J spawned processes;
`open_executor("ray")` on the cluster at `RAY_ADDRESS` (else a local Ray started for the run) and
`open_executor("ray://HOST:PORT")` through Ray Client. Results for a seed are the same whatever
the backend: items are independent, seeded by what they are, and run with the same thread count.
"""

from __future__ import annotations

import os

from archc.diagnostics import unknown_name_help
from archc.errors import ClusterError

from .base import Executor, Resources, WorkerSetup
from .local import InlineExecutor, PoolExecutor
from .worker import report

__all__ = [
    "ClusterError",
    "Executor",
    "Resources",
    "WorkerSetup",
    "check_cluster",
    "cores",
    "open_executor",
    "report",
]

KINDS = ("local", "ray")


def check_cluster(cluster: str) -> str:
    """`cluster` when it names a backend (`local`, `ray`, `ray://HOST:PORT`), else ClusterError."""
    if cluster in KINDS or (cluster.startswith("ray://") and len(cluster) > len("ray://")):
        return cluster
    use = "use local (the default), ray (RAY_ADDRESS or a new local Ray) or ray://HOST:PORT"
    raise ClusterError(
        f"unknown --cluster `{cluster}`", code="E1700", help=unknown_name_help(cluster, KINDS, use, always=True)
    )


def open_executor(cluster: str = "local", jobs: int = 1, setup: WorkerSetup | None = None) -> Executor:
    """The backend named by `cluster`. `jobs` is the size of the local pool; Ray schedules by each
    item's resources instead, and a local Ray started for the run gets this machine's cores (at
    least `jobs` x the setup's threads)."""
    check_cluster(cluster)
    setup = setup or WorkerSetup()
    if cluster == "local":
        return InlineExecutor(setup) if jobs <= 1 else PoolExecutor(jobs, setup)
    from .raycluster import RayExecutor

    address = cluster if cluster.startswith("ray://") else None
    return RayExecutor(address, setup, cpus=_local_cpus(jobs, setup))


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _local_cpus(jobs: int, setup: WorkerSetup) -> int:
    return max(cores(), jobs * setup.threads)
