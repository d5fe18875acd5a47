"""Latency per precision: the block table of each precision a search uses, and which profiler
measures or models a slot in `fp16`, `w8a8` or `w8a16`.

- modelled `s24` (Hexagon v75 NPU): `fp16` is `s24`, fitted to the published FP16 latencies;
  `w8a8` is `s24-w8a8`, fitted to the published W8A8 latencies (`s24calib.py`); `w8a16` is NOT
  fitted -- the published set has no W8A16 rows -- but assumed: the W8A8 model with 2-byte
  activations (DRAM traffic and on-chip fit as in FP16) and half its MAC throughputs (the matrix
  unit takes 16-bit activations at half the 8-bit rate). Every figure is labelled modelled.
- measured ONNX Runtime devices (`cpu`, `ort-cpu`): the block's graph in that precision, `w8a8` and
  `w8a16` as static QDQ graphs (integer kernels for 8-bit activations, VNNI where the processor
  has it). `fp16` is measured as the FP32 graph: ONNX Runtime's x86 CPU provider has no FP16
  convolution kernels, so a float network runs in FP32 on this CPU.

The mixed network's latency (`mixed_latency`) is the FP16 table's prediction with each slot's
block term taken from the table of the slot's precision; the per-network constant, the fixed
part (stem, head, downs, ups, unsearched stages) and the additivity correction stay FP16.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np

from archc.compiler.space import SearchSpace
from archc.dsl.precision import ORIGINAL, TRACED
from archc.dsl.spec import Spec
from archc.errors import ProfileError
from archc.runtime.cluster import Executor

from . import record as rec
from .backend import Profiler
from .costmodel import DeviceModel, ModelledProfiler
from .devices import load_model, resolve
from .measure import Protocol
from .run import Request, header, input_size
from .table import LatencyTable, Progress, build_table

MODELLED = {"s24": {"fp16": "s24", "w8a8": "s24-w8a8", "w8a16": "s24-w8a16"}}
MEASURED = {"cpu": TRACED, "ort-cpu": TRACED}  # the graph an `fp16` slot is measured as
W8A16_NOTE = ("w8a16 assumed, not fitted: the W8A8 fit with 2-byte activations and half its MAC throughputs "
              "(no published W8A16 latencies in the calibration set)")


def s24_w8a16(w8a8: DeviceModel) -> DeviceModel:
    """The assumed W8A16 model of the S24 NPU, derived from the fitted W8A8 one (module docstring)."""
    return attrs.evolve(
        w8a8, name="s24-w8a16", precision="w8a16", bytes_per_element=2,
        description="Samsung Galaxy S24 Ultra NPU, W8A16, modelled (" + W8A16_NOTE + ")",
        dense_macs_per_s=w8a8.dense_macs_per_s / 2, depthwise_macs_per_s=w8a8.depthwise_macs_per_s / 2,
        pointwise_macs_per_s=w8a8.pointwise_macs_per_s / 2, sources=(*w8a8.sources, W8A16_NOTE))


def profiler_for(device: str, precision: str, protocol: Protocol | None = None) -> tuple[Profiler, str]:
    """(profiler, precision of the graphs it profiles) for slots in `precision` on `device`
    (measured ones timed with `protocol`)."""
    if device in MODELLED:
        name = MODELLED[device][precision]
        if name == "s24-w8a16":
            return ModelledProfiler(s24_w8a16(load_model("s24-w8a8"))), TRACED
        return resolve(name), TRACED
    if device in MEASURED:
        return resolve(device, protocol), MEASURED[device] if precision == ORIGINAL else precision
    raise ProfileError(f"precision is not searchable on device `{device}`", code="E0808",
                       help=f"search precision on {', '.join(f'`{d}`' for d in (*MODELLED, *MEASURED))}, "
                            "or remove the `precision` line")


def precision_tables(spec: Spec, device: str, precisions: Sequence[str], size: tuple[int, int] | None,
                     out: Path | None, progress: Progress = lambda key: None,
                     executor: Executor | None = None, protocol: Protocol | None = None) -> dict[str, LatencyTable]:
    """One block table per precision (`fp16` first), all at one input size (default: the FP16
    profiler's), each written to `out/latency_<precision>.json`."""
    tables: dict[str, LatencyTable] = {}
    for precision in (ORIGINAL, *(p for p in precisions if p != ORIGINAL)):
        profiler, graphs = profiler_for(device, precision, protocol)
        request = Request(spec, profiler.name, size)
        size = input_size(request, profiler)
        head = {**header(request, profiler, size), "precision": precision, "graphs": graphs}
        record = rec.RunRecord(out / f"latency_{precision}.json" if out else None, head)
        try:
            tables[precision] = build_table(spec, profiler, size, record, None, progress, executor, graphs)
        finally:
            profiler.close()
        record.finish()
    return tables


def mixed_latency(space: SearchSpace, tables: Mapping[str, LatencyTable]) -> tuple[float, np.ndarray]:
    """(constant, `slots x candidates x precisions` matrix) such that the latency of index tuple
    (b_1..b_m, p_1..p_m) is constant + sum_i matrix[i, b_i, p_i]."""
    fp16 = tables[ORIGINAL]
    base = fp16.predict({})
    m = np.zeros((len(space.slots), max(len(s.candidates) for s in space.slots),
                  max(len(s.precisions) for s in space.slots)))
    for i, slot in enumerate(space.slots):
        original = fp16.net_ms(fp16.unit(slot, slot.original))
        for c, block in enumerate(slot.candidates):
            for k, precision in enumerate(slot.precisions):
                table = tables[precision]
                m[i, c, k] = table.net_ms(table.unit(slot, block)) - original
    return base, m


class MixedRowsLatency:
    """Latency of index rows (blocks then precisions) by one gather (picklable)."""

    def __init__(self, base: float, matrix: np.ndarray) -> None:
        self.base, self.matrix = base, matrix
        self.cols = np.arange(matrix.shape[0])

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        m = self.matrix.shape[0]
        rows = np.asarray(rows, dtype=int).reshape(-1, 2 * m)
        return self.base + self.matrix[self.cols, rows[:, :m], rows[:, m:]].sum(axis=1)  # type: ignore[no-any-return]

    def one(self, idx: tuple[int, ...]) -> float:
        return float(self(np.asarray([idx]))[0])
