"""Every fact about a block kind is declared on the kind: its lowering (the torch builder), its cost
(MACs), its training memory and whether it is a transformer block; the shipped kinds are found
without a hand-kept list, and the memory each declares is what autograd saves."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest
import torch

from archc.compiler.blocks import BlockDef, all_blocks, schemas

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted(name for name, d in all_blocks().items() if d.origin == "archc")


def _facts(defn: BlockDef) -> dict[str, object]:
    return {
        "lowering": defn.builder,
        "macs": defn.macs,
        "train_maps": defn.train_maps,
        "transformer": defn.transformer,
        "summary": defn.summary or None,
    }


@pytest.mark.parametrize("name", sorted(all_blocks()))
def test_every_registered_kind_declares_every_fact(name: str) -> None:
    defn = all_blocks()[name]
    assert [fact for fact, value in _facts(defn).items() if value is None] == []
    assert defn.fragment.is_file()


def test_the_shipped_kinds_are_every_declaration_fragment_and_torch_module() -> None:
    declared = sorted(info.name for info in pkgutil.iter_modules(schemas.__path__))
    fragments = sorted(p.stem for p in (ROOT / "grammar" / "blocks").glob("*.lark"))
    modules = sorted(p.stem for p in (ROOT / "runtime" / "blocks").glob("*.py") if p.stem != "__init__")
    assert SHIPPED == declared == fragments == modules


def test_each_shipped_kind_lowers_to_its_own_module() -> None:
    assert {name: all_blocks()[name].builder for name in SHIPPED} == {
        name: f"archc.runtime.blocks.{name}:build" for name in SHIPPED
    }


def _saved_maps(defn: BlockDef, channels: int, side: int) -> float:
    """Maps of `channels x side x side` autograd keeps for one block's backward, distinct storages."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    block = defn.build(defn.params(), channels).train()
    x = torch.rand(2, channels, side, side, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        block(x)
    return sum(storages.values()) / (4 * x.numel())


@pytest.mark.parametrize("name", SHIPPED)
def test_the_declared_training_memory_is_what_autograd_saves(name: str) -> None:
    torch.manual_seed(0)
    defn = all_blocks()[name]
    measured = _saved_maps(defn, 32, 64)
    assert defn.train_maps == pytest.approx(measured, abs=1.0)
