"""`cpu` (alias `ort-cpu`): ONNX Runtime's CPUExecutionProvider on this machine, measured."""

from __future__ import annotations

from typing import Any

import numpy as np

from archc.compiler.onnx_export import INPUT

from .backend import Profiler
from .measure import Measurement, Protocol, machine, measure
from .workload import Workload


def session(model: bytes, threads: int) -> Any:
    """A sequential CPU session with `threads` intra-op threads and full graph optimisation."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


class OrtCpuProfiler(Profiler):
    kind = "measured"

    def __init__(self, protocol: Protocol, name: str = "cpu") -> None:
        self.name = name
        self.protocol = protocol
        self.description = f"ONNX Runtime CPUExecutionProvider on this machine, {protocol.threads} thread(s)"

    def record(self) -> dict[str, Any]:
        import onnxruntime as ort
        import torch

        return {
            "device": self.name,
            "kind": self.kind,
            "runtime": "onnxruntime",
            "provider": "CPUExecutionProvider",
            "onnxruntime": ort.__version__,
            "torch": torch.__version__,
            "graph_optimization": "ORT_ENABLE_ALL",
            "execution_mode": "sequential",
            **self.protocol.to_json(),
            "machine": machine(),
        }

    def profile(self, workload: Workload) -> Measurement:
        sess = session(workload.onnx_bytes(), self.protocol.threads)
        x = np.random.default_rng(0).random(workload.shape, dtype=np.float32)
        feeds = {INPUT: x}
        return measure(lambda: sess.run(None, feeds), self.protocol, self.record())
