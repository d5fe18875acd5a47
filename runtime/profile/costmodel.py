"""The op-level latency model of a device that is described, not reached (e.g. `s24`).

Per node of the ONNX graph at the profiled size (see `graph.py`):

    latency = max(compute, memory) + per_op + penalty
    compute = work / throughput[class]      (MACs for convs by kind; elements for other ops)
    memory  = DRAM bytes / bandwidth        (activations larger than the on-chip memory, + weights)
    penalty = penalty[tag].per_op + penalty[tag].per_element x elements   (slow-on-NPU patterns)

and a network costs `per_network` plus the sum of its nodes. For element-wise work and DRAM
bytes, channels are padded to the device's channel granule (32 on Hexagon HTP: a 3-channel
tensor moves like 32 channels); conv MACs are not (the published SESR, whose convs read 3 and
16 channels, runs near the dense-conv plateau). "On chip" is per tensor: an activation no
larger than `onchip_bytes` never reaches DRAM. Every coefficient is linear once each node's
branch of the max() is known, which is what `fit.py` uses to fit them by least squares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from attrs import field, frozen

from archc.dsl.precision import TRACED
from archc.runtime.cluster import Resources

from .backend import Profiler
from .graph import CLASSES, PENALTIES, OpProfile, numel, profile_graph
from .measure import Measurement
from .workload import Workload


@frozen
class Penalty:
    per_op_s: float = 0.0
    per_element_s: float = 0.0


@frozen
class DeviceModel:
    """A modelled device: structure (on-chip size, granule, bytes per element) and coefficients."""

    name: str
    description: str = ""
    resolution: tuple[int, int] | None = None  # default input (H, W) for this device
    resolution_note: str = ""
    precision: str = TRACED
    sources: tuple[str, ...] = ()
    dense_macs_per_s: float = 1e11
    depthwise_macs_per_s: float = 1e10
    pointwise_macs_per_s: float = 1e11
    elementwise_per_s: float = 1e10
    bandwidth_bytes_per_s: float = 2e10
    onchip_bytes: int = 1 << 20
    bytes_per_element: int = 4
    channel_granule: int = 1
    per_op_s: float = 0.0
    per_network_s: float = 0.0
    penalties: Mapping[str, Penalty] = field(factory=dict)
    calibration: Mapping[str, Any] = field(factory=dict, eq=False)
    path: str | None = field(default=None, eq=False)

    def penalty(self, tag: str) -> Penalty:
        return self.penalties.get(tag, Penalty())


# coefficient name -> (getter of theta, setter from theta); theta is linear in latency
def _inverse(attr: str) -> tuple[Any, Any]:
    return (lambda m: 1.0 / getattr(m, attr), lambda m, t: attrs.evolve(m, **{attr: 1.0 / t}))


def _direct(attr: str) -> tuple[Any, Any]:
    return (lambda m: getattr(m, attr), lambda m, t: attrs.evolve(m, **{attr: float(t)}))


def _penalty(tag: str, part: str) -> tuple[Any, Any]:
    def get(m: DeviceModel) -> float:
        return float(getattr(m.penalty(tag), part))

    def put(m: DeviceModel, t: float) -> DeviceModel:
        pens = dict(m.penalties)
        pens[tag] = attrs.evolve(m.penalty(tag), **{part: float(t)})
        return attrs.evolve(m, penalties=pens)

    return get, put


COEFFICIENTS: dict[str, tuple[Any, Any]] = {
    "compute.dense_macs_per_s": _inverse("dense_macs_per_s"),
    "compute.depthwise_macs_per_s": _inverse("depthwise_macs_per_s"),
    "compute.pointwise_macs_per_s": _inverse("pointwise_macs_per_s"),
    "compute.elementwise_per_s": _inverse("elementwise_per_s"),
    "memory.bandwidth_bytes_per_s": _inverse("bandwidth_bytes_per_s"),
    "overhead.per_op_s": _direct("per_op_s"),
    "overhead.per_network_s": _direct("per_network_s"),
    **{f"penalty.{t}.{p}": _penalty(t, p) for t in PENALTIES for p in ("per_op_s", "per_element_s")},
}
_CLASS_COEF = {c: (f"compute.{c}_macs_per_s" if c != "elementwise" else "compute.elementwise_per_s") for c in CLASSES}


def _inverse_throughputs(model: DeviceModel) -> np.ndarray:
    return np.array([1.0 / getattr(model, _CLASS_COEF[c].split(".")[1]) for c in CLASSES])


def theta(model: DeviceModel, names: Sequence[str] = tuple(COEFFICIENTS)) -> np.ndarray:
    return np.array([COEFFICIENTS[n][0](model) for n in names], dtype=float)


def with_theta(model: DeviceModel, values: Sequence[float], names: Sequence[str] = tuple(COEFFICIENTS)) -> DeviceModel:
    for name, value in zip(names, values, strict=True):
        model = COEFFICIENTS[name][1](model, value)
    return model


@frozen(eq=False)
class OpTable:
    """A graph's nodes as arrays, for one device structure (granule, on-chip size, element size).

    `work[i]` is in the unit of the node's compute class; `dram[i]` in bytes.
    """

    names: tuple[str, ...]
    op_types: tuple[str, ...]
    cls: np.ndarray  # index into CLASSES
    work: np.ndarray
    dram: np.ndarray
    tag: np.ndarray  # index into PENALTIES, -1 for none
    elements: np.ndarray

    @classmethod
    def of(cls, ops: Sequence[OpProfile], model: DeviceModel) -> OpTable:
        live = [op for op in ops if op.cls != "free"]
        g = model.channel_granule
        return cls(
            tuple(op.name for op in live),
            tuple(op.op_type for op in live),
            np.array([CLASSES.index(op.cls) for op in live], dtype=int),
            np.array([_work(op, g) for op in live], dtype=float),
            np.array([_dram(op, model) for op in live], dtype=float),
            np.array([PENALTIES.index(op.penalty) if op.penalty else -1 for op in live], dtype=int),
            np.array([op.elements(g) for op in live], dtype=float),
        )

    def per_op(self, model: DeviceModel) -> np.ndarray:
        """Seconds per node."""
        inv = _inverse_throughputs(model)
        compute = self.work * inv[self.cls]
        memory = self.dram / model.bandwidth_bytes_per_s
        pen_op = np.array([model.penalty(t).per_op_s for t in PENALTIES] + [0.0])
        pen_el = np.array([model.penalty(t).per_element_s for t in PENALTIES] + [0.0])
        penalty = pen_op[self.tag] + pen_el[self.tag] * self.elements
        return np.maximum(compute, memory) + model.per_op_s + penalty

    def total(self, model: DeviceModel) -> float:
        return float(self.per_op(model).sum() + model.per_network_s)

    def features(self, model: DeviceModel, names: Sequence[str]) -> np.ndarray:
        """d latency / d theta for each coefficient in `names`, with branches chosen at `model`."""
        inv = _inverse_throughputs(model)
        compute_bound = self.work * inv[self.cls] >= self.dram / model.bandwidth_bytes_per_s
        row = {n: 0.0 for n in names}
        for i, c in enumerate(CLASSES):
            key = _CLASS_COEF[c]
            if key in row:
                row[key] = float(self.work[(self.cls == i) & compute_bound].sum())
        if "memory.bandwidth_bytes_per_s" in row:
            row["memory.bandwidth_bytes_per_s"] = float(self.dram[~compute_bound].sum())
        row["overhead.per_op_s"] = float(len(self.cls))
        row["overhead.per_network_s"] = 1.0
        for i, t in enumerate(PENALTIES):
            row[f"penalty.{t}.per_op_s"] = float((self.tag == i).sum())
            row[f"penalty.{t}.per_element_s"] = float(self.elements[self.tag == i].sum())
        return np.array([row[n] for n in names])


def _work(op: OpProfile, granule: int) -> float:
    if op.cls in ("dense", "depthwise", "pointwise"):
        return float(op.macs(1))  # unpadded: see the module docstring
    return float(op.elements(granule) * op.window)


def _dram(op: OpProfile, model: DeviceModel) -> float:
    """Bytes that must cross DRAM: activations too big to stay on chip, and every weight."""
    b = model.bytes_per_element
    acts = (numel(s, op.granule(model.channel_granule)) * b for s in (*op.inputs, *op.outputs))
    return float(sum(x for x in acts if x > model.onchip_bytes) + op.weights * b)


def breakdown(table: OpTable, model: DeviceModel) -> dict[str, float]:
    """Modelled milliseconds by op type, plus the per-network constant (for reports)."""
    out: dict[str, float] = {}
    for op_type, sec in zip(table.op_types, table.per_op(model), strict=True):
        out[op_type] = out.get(op_type, 0.0) + float(sec) * 1e3
    out["(per network)"] = model.per_network_s * 1e3
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def penalty_share(table: OpTable, model: DeviceModel) -> dict[str, float]:
    """Modelled milliseconds of the nodes under each penalty tag (whole node cost)."""
    per_op = table.per_op(model)
    return {t: float(per_op[table.tag == i].sum() * 1e3) for i, t in enumerate(PENALTIES)}


class ModelledProfiler(Profiler):
    """Profiles a workload by running the cost model over its ONNX graph; never times anything."""

    kind = "modelled"

    def __init__(self, model: DeviceModel) -> None:
        self.model = model
        self.name = model.name
        self.description = model.description

    def record(self) -> dict[str, Any]:
        return {
            "device": self.name,
            "kind": self.kind,
            "model_file": self.model.path,
            "precision": self.model.precision,
            "resolution_assumed": self.model.resolution_note,
            "sources": list(self.model.sources),
        }

    def resources(self) -> Resources:
        return Resources(cpus=1.0)  # a modelled figure depends on nothing but the graph

    def table(self, workload: Workload) -> OpTable:
        return OpTable.of(profile_graph(workload.onnx_model()), self.model)

    def profile(self, workload: Workload) -> Measurement:
        table = self.table(workload)
        ms = table.total(self.model) * 1e3
        extra = {"nodes": len(table.cls)}
        return Measurement(ms, "modelled", None, 0, True, self.record(), extra)
