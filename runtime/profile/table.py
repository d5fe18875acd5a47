"""The block table: every (slot, candidate) block at its own feature shape, the fixed rest of the
network, and the whole baseline, on one device; and predictions of any network from it.

A network's predicted latency is

    fixed + scale x sum over slots of count x (block - empty)

where `fixed` is the network with every searchable slot removed (so everything outside the
slots: stem, head, downs, ups, skips, excluded stages), `block` one block measured alone at the
slot's feature shape, `empty` the same runtime running an empty graph at that shape (its
per-call cost, which a block inside a network does not pay), and `scale` makes the baseline
exact: (baseline - fixed) / the baseline's block sum, or, with `fit` networks timed end to end
(`archc profile --fit N`, `scale_fit.py`), the median of that ratio over the baseline and them, so
one unlucky baseline timing no longer moves every prediction (on nafnet_small, cpu, a baseline
timed 30 % high under load scaled every prediction by 1.30). What the blocks alone do not account for
(layout changes between blocks, cache misses of larger graphs) grows with the blocks a network
keeps, so it is shared among them in proportion, not added as a constant `overhead` whatever the
network keeps. On `restormer_small` (cpu, 128x128) three verified picks measured 1.63x, 2.01x
and 3.64x faster than the teacher; the constant predicted 1.36x, 1.58x and 2.39x, the proportion
1.52x, 1.92x and 4.16x. On the NAFNet demo two picks measured 1.30x and 1.41x; the constant
predicted 1.40x and 1.46x, the proportion 1.36x and 1.41x. Records written with the constant
(`correction.kind` `additive`) keep predicting with it.
`--validate` measures how well either holds on other networks (HW-NAS-Bench's additivity check).
Where blocks cost differently alone than inside a network (ExecuTorch's XNNPACK delegate),
`archc profile --swaps` times every single-slot change of the baseline end to end and predicts
the baseline plus each changed slot's delta instead (correction `swaps`, `swaps.py`).
Blocks of the same kind at the same shape are measured once.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from attrs import frozen

from archc.compiler.blocks import get as get_block
from archc.compiler.choice import canonical_choice
from archc.compiler.ir import ir_to_json, to_ir
from archc.compiler.lower import lower
from archc.compiler.space import SearchSpace
from archc.dsl.precision import TRACED
from archc.dsl.spec import Block, Slot, Spec
from archc.runtime.cluster import Executor

from .backend import Profiler
from .dispatch import profile_all
from .measure import Measurement
from .record import RunRecord
from .workload import Workload

Progress = Callable[[str], None]
PROPORTIONAL, ADDITIVE = "proportional", "additive"  # how the baseline's unexplained time is spread
SWAPS = "swaps"  # the baseline plus each changed slot's in-network delta (`swaps.py`, `archc profile --swaps`)


def padded(size: tuple[int, int], levels: int) -> tuple[int, int]:
    m = 2**levels
    return (-(-size[0] // m) * m, -(-size[1] // m) * m)


@frozen
class Unit:
    """One row of the table: candidate `block` in `slot` at feature shape channels x H x W."""

    slot: str
    stage: str
    level: int
    channels: int
    hw: tuple[int, int]
    block: Block
    index: int
    count: int

    @property
    def key(self) -> str:
        return shape_key(self.block.canonical, self.channels, self.hw)

    @property
    def empty_key(self) -> str:
        return shape_key("identity", self.channels, self.hw)


def shape_key(name: str, channels: int, hw: tuple[int, int]) -> str:
    return f"{name}@{channels}x{hw[0]}x{hw[1]}"


def identity_block() -> Block:
    return Block("identity", get_block("identity").params())


def block_workload(block: Block, channels: int, hw: tuple[int, int], precision: str = TRACED) -> Workload:
    defn = get_block(block.kind)
    return Workload(shape_key(block.canonical, channels, hw), defn.build(block.params, channels), channels, hw,
                    precision=precision)


def network_workload(spec: Spec, choice: Mapping[str, Block], size: tuple[int, int], name: str = "",
                     precision: str = TRACED) -> Workload:
    """The whole network of `spec` with `choice` (unchecked: any block may fill any slot)."""
    g = to_ir(spec, choice)
    label = name or f"net:{g.graph['choice'] or 'baseline'}"
    key = shape_key(label, spec.in_channels, size)
    graph = json.dumps(ir_to_json(g), sort_keys=True, default=str)
    cache = f"{hashlib.sha1(graph.encode()).hexdigest()}@{size[0]}x{size[1]}"
    return Workload(key, lower(g).eval(), spec.in_channels, size, cache, precision)


def units(spec: Spec, space: SearchSpace, size: tuple[int, int]) -> list[Unit]:
    g = to_ir(spec)
    hw0 = padded(size, spec.levels)
    out = []
    for slot in space.slots:
        d = g.nodes[slot.stage]
        hw = (hw0[0] >> d["level"], hw0[1] >> d["level"])
        out += [
            Unit(slot.name, slot.stage, d["level"], d["channels_out"], hw, c, i, slot.count)
            for i, c in enumerate(slot.candidates)
        ]
    return out


def swap_key(slot: str, candidate: str) -> str:
    return f"{slot}={candidate}"


def fixed_choice(space: SearchSpace) -> dict[str, Block]:
    return {s.name: identity_block() for s in space.slots}


@frozen
class LatencyTable:
    """What prediction needs: per-key figures (ms), the units, fixed, baseline and overhead."""

    spec: Spec
    space: SearchSpace
    size: tuple[int, int]
    figures: Mapping[str, float]
    units: tuple[Unit, ...]
    fixed_ms: float
    baseline_ms: float
    correction: str = PROPORTIONAL  # or ADDITIVE: the overhead added as a constant
    fit: tuple[tuple[float, float], ...] = ()  # (block sum, measured - fixed) of networks besides the baseline
    swaps: Mapping[str, float] = attrs.field(factory=dict)  # swap_key -> in-network delta (ms), `swaps.py`
    swap_base_ms: float | None = None  # the baseline the deltas are taken from (median of its timings)

    def unit(self, slot: Slot, block: Block) -> Unit:
        for u in self.units:
            if u.slot == slot.name and u.block.canonical == block.canonical:
                return u
        raise KeyError((slot.name, block.canonical))

    def net_ms(self, u: Unit) -> float:
        return u.count * (self.figures[u.key] - self.figures[u.empty_key])

    def block_sum(self, choice: Mapping[str, Block]) -> float:
        return sum(self.net_ms(self.unit(s, choice.get(s.name, s.original))) for s in self.space.slots)

    @property
    def overhead_ms(self) -> float:
        return self.baseline_ms - self.fixed_ms - self.block_sum({})

    @property
    def scale(self) -> float:
        """What each block's figure is multiplied by in a prediction with the table's correction."""
        return self._scale(self.correction)

    def _scale(self, correction: str) -> float:
        """The median of (measured - fixed) / block sum over the baseline and the `fit` networks;
        1 with the additive correction, or when no network's blocks sum to something to scale."""
        if correction in (ADDITIVE, SWAPS):
            return 1.0
        pairs = [(self.block_sum({}), self.baseline_ms - self.fixed_ms), *self.fit]
        ratios = [rest / blocks for blocks, rest in pairs if blocks > 0 and rest > 0]
        return float(statistics.median(ratios)) if ratios else 1.0

    def predict(self, choice: Mapping[str, Block], corrected: bool = True, correction: str | None = None) -> float:
        """Predicted latency (ms) of the network with `choice` (slots not named keep the original),
        with the table's correction (or `correction`; none when not `corrected`)."""
        correction = correction or self.correction
        if corrected and correction == SWAPS:
            return self.swapped(choice)
        blocks = self.block_sum(choice)
        if not corrected:
            return self.fixed_ms + blocks
        scale = self._scale(correction)
        if scale == 1.0:  # additive: the overhead as a constant
            return self.fixed_ms + blocks + self.overhead_ms
        return self.fixed_ms + scale * blocks

    def swapped(self, choice: Mapping[str, Block]) -> float:
        """The baseline plus the in-network delta of every slot `choice` changes (`swaps.py`)."""
        if self.swap_base_ms is None:
            raise ValueError("this table has no in-network swaps (archc profile --swaps)")
        total = self.swap_base_ms
        for s in self.space.slots:
            block = choice.get(s.name, s.original)
            if block.canonical != s.original.canonical:
                total += self.swaps[swap_key(s.name, block.canonical)]
        return total

    def correction_json(self) -> dict[str, Any]:
        out = {"kind": self.correction, "overhead_ms": self.overhead_ms, "scale": self.scale,
               "fitted_on": 1 + len(self.fit)}
        if self.swap_base_ms is not None:
            out["swap_baseline_ms"] = self.swap_base_ms
        return out


def _figure(profiler: Profiler, w: Workload, record: RunRecord, cache: dict[str, Any], progress: Progress) -> float:
    if w.key in cache:
        return float(cache[w.key]["latency_ms"])
    progress(w.key)
    m: Measurement = profiler.profile(w)
    cache[w.key] = m.to_json()
    record.add_measurement(w.key, m.to_json())
    return m.median_ms


def _rows(table: LatencyTable) -> list[dict[str, Any]]:
    rows = []
    for u in table.units:
        block, empty = table.figures[u.key], table.figures[u.empty_key]
        rows.append(
            {
                "slot": u.slot,
                "stage": u.stage,
                "level": u.level,
                "feature": [u.channels, *u.hw],
                "candidate": u.block.canonical,
                "index": u.index,
                "count": u.count,
                "key": u.key,
                "block_ms": block,
                "empty_ms": empty,
                "latency_ms": u.count * block,
                "net_ms": table.net_ms(u),
            }
        )
    return rows


def build_table(
    spec: Spec,
    profiler: Profiler,
    size: tuple[int, int],
    record: RunRecord,
    reuse: Mapping[str, Any] | None = None,
    progress: Progress = lambda key: None,
    executor: Executor | None = None,
    precision: str = TRACED,
) -> LatencyTable:
    """Profile every unique block, the empty graph at each shape, the fixed part and the baseline
    (on `executor` where the device allows, see `dispatch.py`), writing each figure into `record`
    as soon as it is taken; every graph is exported in `precision`."""
    space = SearchSpace.of(spec)
    cache: dict[str, Any] = dict(reuse or {})
    record.data["measurements"].update(cache)
    rows = units(spec, space, size)
    fixed_w = network_workload(spec, fixed_choice(space), size, "fixed", precision)
    base_w = network_workload(spec, {}, size, "baseline", precision)
    todo = [w for w in [*_block_workloads(rows, precision).values(), fixed_w, base_w] if w.key not in cache]

    def measured(w: Workload, m: dict[str, Any]) -> None:
        cache[w.key] = m
        record.add_measurement(w.key, m)
        progress(w.key)

    profile_all(profiler, todo, executor, measured)
    figures = {k: float(cache[k]["latency_ms"]) for u in rows for k in (u.key, u.empty_key)}
    fixed, base = float(cache[fixed_w.key]["latency_ms"]), float(cache[base_w.key]["latency_ms"])
    record.put(
        "fixed", {"key": fixed_w.key, "latency_ms": fixed, "choice": canonical_choice(spec, fixed_choice(space))}
    )
    record.put("baseline", {"key": base_w.key, "latency_ms": base, "choice": canonical_choice(spec, {})})
    table = LatencyTable(spec, space, size, figures, tuple(rows), fixed, base)
    record.put("blocks", _rows(table))
    record.put("correction", table.correction_json())
    return table


def _block_workloads(rows: Sequence[Unit], precision: str = TRACED) -> dict[str, Workload]:
    """Every block and empty graph the units need, once per key, in table order."""
    out: dict[str, Workload] = {}
    for u in rows:
        for block, key in ((u.block, u.key), (identity_block(), u.empty_key)):
            if key not in out:
                out[key] = block_workload(block, u.channels, u.hw, precision)
    return out


def table_from_record(spec: Spec, data: Mapping[str, Any]) -> LatencyTable:
    """Rebuild the table of a finished run (its latency.json) for predictions."""
    space = SearchSpace.of(spec)
    size = (int(data["input_size"][0]), int(data["input_size"][1]))
    meas = data["measurements"]
    figures = {k: float(v["latency_ms"]) for k, v in meas.items()}
    correction = (data.get("correction") or {}).get("kind", ADDITIVE)
    table = LatencyTable(
        spec,
        space,
        size,
        figures,
        tuple(units(spec, space, size)),
        float(data["fixed"]["latency_ms"]),
        float(data["baseline"]["latency_ms"]),
        correction,
    )
    swaps = data.get("swaps") or {}
    if "baseline_median_ms" in swaps:
        table = with_swaps(table, swaps)
    return with_fit(table, [(row["choice"], float(row["measured_ms"])) for row in (data.get("fit") or [])])


def with_swaps(table: LatencyTable, section: Mapping[str, Any]) -> LatencyTable:
    """`table` with the in-network deltas of a finished `swaps` section (latency.json's, `swaps.py`)."""
    deltas = {swap_key(r["slot"], r["candidate"]): float(r["delta_ms"]) for r in section["rows"]}
    return attrs.evolve(table, swap_base_ms=float(section["baseline_median_ms"]), swaps=deltas)


def with_fit(table: LatencyTable, measured: Sequence[tuple[str, float]]) -> LatencyTable:
    """`table` with its scale fitted on these whole networks too (choice text, measured ms)."""
    from archc.compiler.frontend import choice_of

    pairs = tuple((table.block_sum(choice_of(table.spec, c)), ms - table.fixed_ms) for c, ms in measured)
    return attrs.evolve(table, fit=pairs)
