"""The units that saliency is reported for: each block, and each slot of the search.

A block is one module of a stage's Sequential, named `STAGE[i]` (`enc4[17]` is module
`encoders.3.17`). A slot covers blocks [start, stop) of one stage (`spec.search`; without a
search part every stage is a slot, as the DSL's default `slots` line does). A scored tensor
belongs to a unit when its module name is one of the unit's module paths or lies under one, so
`encoders.3.17.conv1` counts for block `enc4[17]` and for every slot holding it.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen
from torch import nn

from archc.compiler.blocks import get as get_block
from archc.compiler.lower import ArchNet
from archc.dsl.spec import Slot, Spec, Stage


@frozen
class Unit:
    """Blocks [start, stop) of `stage`, living at `modules` (state_dict prefixes)."""

    name: str  # `enc4[17]` for a block, the slot's name for a slot
    kind: str  # "block" | "slot"
    stage: str
    start: int
    stop: int
    block: str  # canonical block of the stage, e.g. `naf`
    modules: tuple[str, ...]

    def holds(self, name: str) -> bool:
        """Whether module (or parameter) `name` lies inside this unit."""
        return any(name == m or name.startswith(m + ".") for m in self.modules)


def _stage_unit(model: ArchNet, stage: Stage, name: str, kind: str, start: int, stop: int) -> Unit:
    prefix = model.stage_prefix(stage.name)
    return Unit(
        name, kind, stage.name, start, stop, stage.block.canonical, tuple(f"{prefix}.{i}" for i in range(start, stop))
    )


def block_units(spec: Spec, model: ArchNet) -> tuple[Unit, ...]:
    """One unit per block, in network order (the order of `spec.stages`)."""
    return tuple(
        _stage_unit(model, s, f"{s.name}[{i}]", "block", i, i + 1) for s in spec.stages for i in range(s.repeat)
    )


def spec_slots(spec: Spec) -> tuple[Slot, ...]:
    """Every slot, searchable or fixed, in network order; every stage when there is no search."""
    if spec.search is None:
        return tuple(Slot(s.name, s.name, 0, s.repeat, s.block, (s.block,)) for s in spec.stages)
    order = {s.name: i for i, s in enumerate(spec.stages)}
    return tuple(sorted((*spec.search.slots, *spec.search.fixed), key=lambda s: (order[s.stage], s.start)))


def slot_units(spec: Spec, model: ArchNet) -> tuple[Unit, ...]:
    return tuple(_stage_unit(model, spec.stage(s.stage), s.name, "slot", s.start, s.stop) for s in spec_slots(spec))


def unit_params(model: nn.Module, unit: Unit) -> int:
    """Parameters (all of them, not only the scored weights) inside the unit."""
    return sum(p.numel() for n, p in model.named_parameters() if unit.holds(n))


def padded(size: tuple[int, int], levels: int) -> tuple[int, int]:
    m = 2**levels
    return (-(-size[0] // m) * m, -(-size[1] // m) * m)


def unit_macs(spec: Spec, unit: Unit, size: tuple[int, int]) -> int:
    """Conv MACs of the unit's blocks for an input of `size` (H, W), by the block registry's rule."""
    stage = spec.stage(unit.stage)
    h, w = padded(size, spec.levels)
    defn = get_block(stage.block.kind)
    return (unit.stop - unit.start) * defn.macs(stage.block.params, stage.channels, h >> stage.level, w >> stage.level)


def block_modules(model: nn.Module, units: Iterable[Unit]) -> dict[str, nn.Module]:
    """Module path -> block module, for every block of `units`."""
    return {path: model.get_submodule(path) for u in units for path in u.modules}
