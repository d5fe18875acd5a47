"""`--cluster`: where the parallel work of `distill`, `profile`, `search` and `run` runs.

`local` (the default) is this machine's process pool (`--jobs`), with no Ray needed; `ray` joins
the cluster at `RAY_ADDRESS`, or starts a local Ray for the run; `ray://HOST:PORT` connects through
Ray Client. Results for a seed are the same on every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

CLUSTER_HELP = (
    "Where parallel work runs: local (this machine's processes, see --jobs), ray (the Ray cluster at "
    "RAY_ADDRESS, else a local Ray started for the run) or ray://HOST:PORT."
)


def cluster_option(fn: F) -> F:
    return click.option("--cluster", default="local", show_default=True, help=CLUSTER_HELP)(fn)


def check_cluster_option(cluster: str) -> None:
    """Fail fast, before any work: an unknown `--cluster`, or `ray` without Ray installed."""
    from archc.runtime.cluster import check_cluster

    if check_cluster(cluster) != "local":
        from archc.runtime.cluster.raycluster import import_ray

        import_ray()


def open_cluster(cluster: str, jobs: int, threads: int = 1) -> Any:
    """The executor for `--cluster`, or None for `local` (each stage then uses its own default:
    this process, or a pool of `--jobs`). Raises ClusterError for a bad name or a missing Ray."""
    from archc.compiler.blocks import plugin_files
    from archc.runtime.cluster import WorkerSetup, check_cluster, open_executor

    if check_cluster(cluster) == "local":
        return None
    executor = open_executor(cluster, jobs, WorkerSetup(threads, plugin_files()))
    where = executor.describe()
    from .output import err_console

    err_console.print(f"cluster: Ray ({where.get('where')}), {where['workers']} CPUs")
    return executor


def evaluation_threads(cluster: str, jobs: int, threads: int | None) -> int:
    """Torch threads per evaluation: `threads` when given; else this process's own count with one
    local job, cores / jobs for a local pool, and 1 on Ray (parallelism comes from its tasks)."""
    import torch

    from archc.runtime.cluster import cores

    if threads:
        return threads
    if cluster != "local":
        return 1
    return torch.get_num_threads() if jobs == 1 else max(1, cores() // jobs)


def evaluation_executor(cluster: str, jobs: int, threads: int | None) -> Any:
    """The executor of a stage that always runs through one (search): `--cluster local` with one
    job is this process (see `evaluation_threads` for the thread count)."""
    from archc.compiler.blocks import plugin_files
    from archc.runtime.cluster import WorkerSetup, check_cluster, open_executor

    n = evaluation_threads(check_cluster(cluster), jobs, threads)
    if cluster == "local":
        return open_executor("local", jobs, WorkerSetup(n, plugin_files()))
    return open_cluster(cluster, jobs, n)
