"""Memory estimates from the IR: weights from the parameter count, activations from channels x H x W."""

from __future__ import annotations

import torch

from archc.api import build, compile_ir
from archc.compiler.memory import (
    BYTES,
    for_export,
    for_training,
    for_weights,
    inference_activations,
    padded,
    training_activations,
)

from helpers import SPECS

TINY = SPECS / "nafnet_tiny.arch"


def _saved_bytes(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Bytes autograd keeps for backward, distinct storages only (the reference the estimate follows)."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    return sum(storages.values())


def test_weights_are_four_bytes_a_parameter() -> None:
    est = for_weights(1000)
    assert est.weights == 4000 and est.total == 4000 and est.to_json()["total"] == 4000


def test_training_state_and_activations_scale_with_the_batch() -> None:
    g = compile_ir(TINY)
    one, four = for_training(100, g, 64, 1), for_training(100, g, 64, 4)
    assert one.state == 3 * 100 * BYTES and for_training(100, g, 64, 1, average=True).state == 4 * 100 * BYTES
    assert four.activations == 4 * one.activations
    assert training_activations(g, (128, 128), 1) == 4 * training_activations(g, (64, 64), 1)


def test_training_estimate_is_near_what_autograd_saves() -> None:
    torch.manual_seed(0)
    g = compile_ir(TINY)
    model = build(TINY).train()
    measured = _saved_bytes(model, torch.rand(2, 3, 64, 64))
    estimate = training_activations(g, (64, 64), 2)
    assert 0.5 * measured <= estimate <= 1.5 * measured


def test_inputs_are_padded_like_the_network_pads_them() -> None:
    g = compile_ir(TINY)
    assert padded((70, 100), g.graph["levels"]) == (80, 112)
    assert inference_activations(g, (70, 100)) == inference_activations(g, (80, 112))


def test_export_counts_its_copies_of_the_weights() -> None:
    g = compile_ir(TINY)
    est = for_export(1000, g)
    assert est.weights == 4000 and est.state == 3 * 4000 and est.activations > 0
