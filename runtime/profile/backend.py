"""What every latency backend provides: a name, a kind, and `profile(workload) -> Measurement`."""

from __future__ import annotations

import abc
from typing import Any

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

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing
        """Release sessions, temporary files or connections."""
