"""The error of execution backends (codes E17xx): a bad `--cluster`, Ray missing or unreachable, a
resource no node offers, a work item that failed on a worker."""

from __future__ import annotations

from archc.dsl.errors import ArchError


class ClusterError(ArchError):
    """The execution backend cannot run the work: bad address, Ray not installed or unreachable,
    a resource no node of the cluster offers, a run folder a worker cannot see."""
