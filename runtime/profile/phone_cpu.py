"""`executorch-cpu` and `litert-cpu`: the phone runtimes on this machine's CPU, measured.

Each workload's module is converted as a phone app would ship it (`compiler/pte_export.py`:
torch.export + the XNNPACK partitioner; `compiler/tflite_export.py`: litert_torch, run with the
interpreter's XNNPACK delegate), at the workload's fixed input shape, then timed in the runtime's
own Python binding under the measurement protocol (warm-up, pinned threads, repeats until the
median settles). ExecuTorch's XNNPACK thread pool is process-wide, so `threads` resets it; LiteRT
takes `num_threads` per interpreter. A quantized workload (`w8a8`) goes through the runtime's own
INT8 flow, calibrated on random images: the ranges change its numbers, not its speed.

Conversions are slow (seconds to minutes for a network), so they are cached in this process by
workload key, as the ONNX graphs are (`workload.py`).

A block table times blocks and networks as built, untrained, and a fresh NAFNet block's residual
scales are zero: LiteRT's converter folds `x + 0 * f(x)` to `x` and drops the whole block, so the
table would time networks without their blocks (nafnet_small at 128x128 came out 3.2 ms, against
22 ms with its trained weights). Each module is therefore converted as a copy whose all-zero
parameters are set to a small constant (`unfoldable`): the same operations, none of them foldable.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from torch import nn

from archc.compiler.mobile import require
from archc.compiler.quantize import Calibration
from archc.dsl.precision import is_quantized
from archc.runtime.accel.threads import torch_threads

from .backend import Profiler
from .measure import Measurement, Protocol, machine, measure
from .workload import Workload

_CACHE: OrderedDict[str, bytes] = OrderedDict()
_CACHE_SIZE = 64


def converted(fmt: str, workload: Workload) -> bytes:
    """The workload's module as a `.pte` / `.tflite` at its fixed shape (cached by key)."""
    key = f"{fmt}:{workload.cache_key or workload.key}#{workload.precision}"
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    from archc.compiler.pte_export import to_pte
    from archc.compiler.tflite_export import to_tflite

    calibration = None
    if is_quantized(workload.precision):
        images = np.random.default_rng(0).random((2, *workload.shape), dtype=np.float32)
        calibration = Calibration(tuple(images), "minmax", "random images (latency only)")
    convert = {"pte": to_pte, "tflite": to_tflite}[fmt]
    data, _ = convert(
        unfoldable(workload.module),
        workload.channels,
        workload.size,
        dynamic=False,
        precision=workload.precision,
        calibration=calibration,
    )
    _CACHE[key] = data
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return data


def unfoldable(module: nn.Module, value: float = 0.1) -> nn.Module:
    """A copy of `module` whose all-zero parameters hold `value` instead (see the module's doc)."""
    out = copy.deepcopy(module)
    with torch.no_grad():
        for p in out.parameters():
            if not p.any():
                p.fill_(value)
    return out


class PhoneCpuProfiler(Profiler):
    """One phone runtime (`fmt` = `pte` or `tflite`) measured on this machine."""

    kind = "measured"
    RUNTIME = {"pte": "executorch", "tflite": "litert"}

    def __init__(self, fmt: str, protocol: Protocol, name: str) -> None:
        require(fmt)
        self.fmt = fmt
        self.name = name
        self.protocol = protocol
        runtime = {"pte": "ExecuTorch (XNNPACK delegate)", "tflite": "LiteRT interpreter (XNNPACK delegate)"}[fmt]
        self.description = f"{runtime} on this machine, {protocol.threads} thread(s)"

    def record(self) -> dict[str, Any]:
        from importlib.metadata import version

        import torch

        package = {"pte": "executorch", "tflite": "litert-torch"}[self.fmt]
        return {
            "device": self.name,
            "kind": self.kind,
            "runtime": self.RUNTIME[self.fmt],
            "delegate": "XNNPACK",
            package: version(package),
            **({"ai-edge-litert": version("ai-edge-litert")} if self.fmt == "tflite" else {}),
            "torch": torch.__version__,
            **self.protocol.to_json(),
            "machine": machine(),
        }

    def _runner(self, data: bytes) -> Any:
        if self.fmt == "pte":
            from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

            from archc.compiler.pte_export import PteRunner

            _unsafe_reset_threadpool(self.protocol.threads)
            return PteRunner(data)
        from archc.compiler.tflite_export import TfliteRunner

        return TfliteRunner(data, self.protocol.threads)

    def profile(self, workload: Workload) -> Measurement:
        data = converted(self.fmt, workload)
        x = np.random.default_rng(0).random(workload.shape, dtype=np.float32)
        runner = self._runner(data)
        # ExecuTorch's XNNPACK delegate also runs on PyTorch's intra-op pool: left at its default,
        # a "1 thread" timing handed up to half of each run to a second thread. PyTorch's count
        # is set after the runner resets ExecuTorch's pool (set before, the reset undoes it).
        with torch_threads(self.protocol.threads):
            return measure(lambda: runner.run(x), self.protocol, self.record())
