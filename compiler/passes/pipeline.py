"""The pass list: every inference pass in its default order, and the -O levels.

    -O0   nothing: the plain graph
    -O1   the exact algebraic folds that help every runtime
    -O2   -O1 + the rewrites for the target runtime (the default)

Module passes rewrite the torch module before export; graph passes (stage `onnx`) rewrite the
exported ONNX graph after simplification (`optimize_graph`).

A level is resolved per target: `onnx` for an exported graph, `torch` for evaluating the module.
The order matters where patterns overlap: the folds look for plain 1x1 convs, so they run before
`split_simple_gate` and `onednn_pointwise` replace them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from torch import nn

from archc.diagnostics import quoted_list, unknown_name_help
from archc.errors import ExportError

from . import (
    channels_last,
    fold_batchnorm,
    fold_layernorm_affine,
    fold_residual_scale,
    onednn_pointwise,
    split_simple_gate,
    symbolic_shapes,
)
from .base import TARGETS, Pass

PASSES: tuple[Pass, ...] = (
    fold_batchnorm.PASS,
    fold_layernorm_affine.PASS,
    fold_residual_scale.PASS,
    split_simple_gate.PASS,
    channels_last.PASS,
    onednn_pointwise.PASS,
    symbolic_shapes.PASS,
)
BY_NAME = {p.name: p for p in PASSES}
O1 = ("fold_batchnorm", "fold_layernorm_affine", "fold_residual_scale")
DEFAULT_LEVEL = 2


def passes_for(level: int, target: str = "onnx") -> tuple[str, ...]:
    """The pass names of `-O{level}` for `target`, in pipeline order."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    if level <= 0:
        return ()
    if level == 1:
        return O1
    return tuple(p.name for p in PASSES if p.name in O1 or target in p.targets)


def select(names: Iterable[str]) -> tuple[Pass, ...]:
    """The named passes, in pipeline order; an unknown name raises ExportError with a suggestion."""
    wanted = [n.strip() for n in names if n.strip()]
    for name in wanted:
        if name not in BY_NAME:
            raise ExportError(
                f"unknown pass `{name}`", code="E0610",
                help=unknown_name_help(name, BY_NAME, f"known passes: {quoted_list(BY_NAME)}"),
            )
    return tuple(p for p in PASSES if p.name in wanted)


def optimize(model: nn.Module, passes: Sequence[str] | None = None, level: int = DEFAULT_LEVEL,
             target: str = "onnx", inplace: bool = False) -> nn.Module:
    """`model` (in eval mode, copied unless `inplace`) with the module passes applied in order.

    `passes` names them explicitly; otherwise `level` and `target` choose (see the module doc).
    Graph passes (stage `onnx`) among them are skipped here: `optimize_graph` runs them.
    """
    chosen = select(passes if passes is not None else passes_for(level, target))
    out = (model if inplace else copy.deepcopy(model)).eval()
    for p in chosen:
        if p.stage == "module":
            out = p.run(out)
    return out


def optimize_graph(proto: Any, passes: Sequence[str]) -> Any:
    """The exported graph (onnx ModelProto) with the named graph passes (stage `onnx`) applied."""
    for p in select(passes):
        if p.stage == "onnx":
            proto = p.run(proto)
    return proto
