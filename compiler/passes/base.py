"""What a pass is, and the helpers the passes share to find their patterns in a network."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from attrs import frozen
from torch import nn

TARGETS = ("onnx", "torch")
STAGES = ("module", "onnx")


@frozen
class Pass:
    """A rewrite into an equivalent network (outputs equal within float tolerance).

    `stage` says what it rewrites: `module` (the torch module, before export; `run` takes and
    returns an nn.Module, rewriting in place) or `onnx` (the exported graph; `run` takes and
    returns an onnx ModelProto). `targets` says which runtimes the rewrite pays off for: `onnx`
    (the exported graph, run by ONNX Runtime or a phone) or `torch` (evaluating the module).
    """

    name: str
    run: Callable[[Any], Any]
    targets: tuple[str, ...]
    summary: str
    stage: str = "module"


def blocks_declaring(model: nn.Module, pattern: str) -> Iterator[nn.Module]:
    """Every submodule whose class declares `pattern` (e.g. NAFBlock.NORM_FEEDS)."""
    for module in model.modules():
        if getattr(type(module), pattern, None):
            yield module


def is_pointwise(module: nn.Module) -> bool:
    """A 1x1, stride-1, ungrouped Conv2d (a per-pixel matrix product)."""
    return (
        isinstance(module, nn.Conv2d)
        and module.kernel_size == (1, 1)
        and module.stride == (1, 1)
        and module.padding in ((0, 0), "valid")
        and module.groups == 1
    )


def is_depthwise(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) and module.groups == module.in_channels == module.out_channels
