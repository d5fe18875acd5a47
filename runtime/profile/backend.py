"""What every latency backend provides: a name, a kind, and `profile(workload) -> Measurement`."""

from __future__ import annotations

import abc
from typing import Any

from archc.runtime.cluster import Resources

from .measure import Measurement
from .workload import Workload


class Profiler(abc.ABC):
    """One resolved device. `kind` is `measured`, `modelled` or `remote` (see `measure.KINDS`)."""

    name: str
    kind: str
    description: str = ""

    @abc.abstractmethod
    def profile(self, workload: Workload) -> Measurement:
        """The latency of `workload`; raises ProfileError when the device cannot run it."""

    def record(self) -> dict[str, Any]:
        """The protocol every figure of this device is taken under (written beside each figure)."""
        return {"device": self.name, "kind": self.kind}

    def resources(self) -> Resources | None:
        """What one profile needs of an execution backend, or None when it must run in this process,
        one at a time (a timing on this machine). See `dispatch.py`."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing
        """Release sessions, temporary files or connections."""
