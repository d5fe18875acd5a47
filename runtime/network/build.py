"""Build the torch module of a spec: lower its IR, then load weights, plug surrogates, apply TLC."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from archc.compiler.frontend import ChoiceLike, as_spec, choice_of
from archc.compiler.ir import to_ir
from archc.compiler.layouts import to_network_keys
from archc.compiler.lower import ArchNet, lower
from archc.compiler.pretrained import resolve as resolve_pretrained
from archc.compiler.tlc import apply_tlc
from archc.compiler.weights import apply_state, load_state
from archc.dsl.spec import Spec
from archc.runtime.accel.memory import check_network_fits


def build(
    spec: Spec | str | Path,
    choice: ChoiceLike = None,
    weights: str | Path | None = None,
    tlc_train_size: tuple[int, int] | None = None,
    surrogates: str | Path | None = None,
) -> nn.Module:
    """The torch module of `spec` with `choice` applied.

    `weights` may be an official NAFNet checkpoint (`.pth`, dict under `params`), one of another
    family whose key layout the spec declares (`checkpoint restormer`: see compiler/layouts.py), an
    archc `.safetensors` file, or `pretrained:NAME` (weights that ship with archc, `archc pretrained`).
    `tlc_train_size=(H, W)` applies NAFNet's test-time local converter for a network trained on
    H x W crops (the module is then returned in eval mode). `surrogates` is a bank folder from
    `archc distill`: `weights` is then its teacher, and every chosen slot that does not keep its
    original block takes the bank's trained surrogate (DistillError if it has none).
    A network whose weights cannot fit in free memory is refused first (MemoryLimitError, E1521).
    """
    s = as_spec(spec)
    weights = resolve_pretrained(weights)
    chosen = choice_of(s, choice)
    g = to_ir(s, chosen)
    check_network_fits(g, torch.device("cpu"), s)  # before lowering allocates the weights
    model: ArchNet = lower(g)
    if surrogates is not None:
        from archc.runtime.distill.bank import plug_surrogates

        plug_surrogates(model, s, chosen, weights, surrogates)
    elif weights is not None:
        state = to_network_keys(load_state(weights), g, frozenset(model.state_dict()))
        apply_state(model, state, source=str(weights))
    if tlc_train_size is not None:
        apply_tlc(model, tlc_train_size, s.in_channels)
    return model
