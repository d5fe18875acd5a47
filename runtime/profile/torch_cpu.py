"""`torch-cpu`: the PyTorch module itself on this machine's CPU, measured like `cpu`."""

from __future__ import annotations

from typing import Any

import torch

from archc.runtime.accel.threads import torch_threads

from .backend import Profiler
from .measure import Measurement, Protocol, machine, measure
from .workload import Workload


class TorchCpuProfiler(Profiler):
    kind = "measured"

    def __init__(self, protocol: Protocol, name: str = "torch-cpu") -> None:
        self.name = name
        self.protocol = protocol
        self.description = f"PyTorch eager on this machine's CPU, {protocol.threads} thread(s), inference_mode"

    def record(self) -> dict[str, Any]:
        return {
            "device": self.name,
            "kind": self.kind,
            "runtime": "torch",
            "torch": torch.__version__,
            "mode": "eval + inference_mode",
            **self.protocol.to_json(),
            "machine": machine(),
        }

    def profile(self, workload: Workload) -> Measurement:
        module = workload.module.eval()
        x = torch.rand(workload.shape, generator=torch.Generator().manual_seed(0))

        def run() -> object:
            with torch.inference_mode():
                return module(x)

        with torch_threads(self.protocol.threads):
            return measure(run, self.protocol, self.record())
