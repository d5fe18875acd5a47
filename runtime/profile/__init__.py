"""Latency: devices (measured here, remote, or modelled), block tables, validation, calibration.

    from archc.runtime.profile import Request, execute, resolve
    record, table = execute(Request(archc.parse("specs/nafnet_tiny.arch"), "cpu", (64, 64)))
    table.predict({"enc1": block})            # ms, from the block table

Modules: `measure` (protocol, stable median), `workload` (module + shape -> ONNX), backends
`ort`, `torch_cpu`, `adb`, `qaihub`, `costmodel` (+ `graph`, `devicefile`), `devices` (names ->
profilers), `table` (block table and prediction), `validate`, `record` (latency.json), `run`
(one `archc profile`), `fit` + `calibrate` (`archc calibrate`), `calibnets` + `s24calib` (how
`devices/s24.toml` was fitted to published Snapdragon 8 Gen 3 latencies).
"""

from __future__ import annotations

from .costmodel import DeviceModel, ModelledProfiler
from .devices import listing, load_model, resolve
from .measure import Measurement, Protocol
from .run import Request, execute
from .table import LatencyTable, build_table
from .workload import Workload

__all__ = [
    "DeviceModel",
    "LatencyTable",
    "Measurement",
    "ModelledProfiler",
    "Protocol",
    "Request",
    "Workload",
    "build_table",
    "execute",
    "listing",
    "load_model",
    "resolve",
]
