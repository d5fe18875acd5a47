"""How much memory a network will take, from its IR and parameter count alone (pure arithmetic).

Every figure is float32 bytes. Weights are 4 bytes a parameter. Activations follow from the IR:
a node at level l of an H x W input works on `C x (H / 2^l) x (W / 2^l)` maps (after padding to a
multiple of 2^levels, as the network does).

- Training keeps, per block, the maps autograd saves for the backward pass: the `train_maps` its
  kind declares (compiler/blocks: maps of the block's `C x h x w`, measured with
  `torch.autograd.graph.saved_tensors_hooks`, distinct storages only, at float32); each other op
  saves its output. State: gradients and
  AdamW's two moments (3 more copies of the weights), plus one for a weight average.
- Inference holds the encoders' skip maps until their decoders use them, plus the working set of
  the widest op (`INFER_MAPS` maps: a block's input, its 2C-channel expansions, its output).
- ONNX export holds the module, its eval copy, the traced graph and the simplifier's copy
  (`EXPORT_COPIES` copies of the weights).

The figures are estimates meant to refuse what clearly cannot fit, not to promise that the rest
will: allocator overhead, the framework itself and other processes come on top.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from attrs import frozen

from .blocks import get as get_block

BYTES = 4  # float32
DEFAULT_TRAIN_MAPS = 8.0  # a plugin kind that declares no `train_maps`
INFER_MAPS = 6.0
OPTIMIZER_COPIES = 3  # gradients + AdamW's exp_avg and exp_avg_sq
EXPORT_COPIES = 4


@frozen
class MemoryEstimate:
    """Bytes a task needs: `weights` (the parameters), `state` (gradients, optimizer, copies) and
    `activations` (feature maps at the task's input size and batch)."""

    task: str
    weights: int
    state: int
    activations: int
    state_label: str = "gradients and optimizer state"

    @property
    def total(self) -> int:
        return self.weights + self.state + self.activations

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "weights": self.weights,
            "state": self.state,
            "activations": self.activations,
            "total": self.total,
        }


def padded(size: tuple[int, int], levels: int) -> tuple[int, int]:
    m = 2**levels
    return (-(-size[0] // m) * m, -(-size[1] // m) * m)


def _pixels(g: nx.DiGraph, d: dict[str, Any], size: tuple[int, int]) -> int:
    h, w = padded(size, g.graph["levels"])
    return (h >> d["level"]) * (w >> d["level"])


def _saved_maps(d: dict[str, Any]) -> float:
    """Maps of `C x h x w` one node saves for backward."""
    if d["kind"] != "stage":
        return 1.0
    return sum((s["stop"] - s["start"]) * train_maps(s["kind"]) for s in d["segments"])


def train_maps(kind: str) -> float:
    """Maps of `C x h x w` one block of `kind` saves for backward."""
    declared = get_block(kind).train_maps
    return DEFAULT_TRAIN_MAPS if declared is None else declared


def training_activations(g: nx.DiGraph, size: tuple[int, int], batch: int) -> int:
    """Bytes autograd keeps from one forward pass of `batch` crops of `size` (H, W)."""
    maps = sum(_saved_maps(d) * d["channels_out"] * _pixels(g, d, size) for _, d in g.nodes(data=True))
    return int(maps * batch * BYTES)


def inference_activations(g: nx.DiGraph, size: tuple[int, int], batch: int = 1) -> int:
    """Peak bytes of feature maps in one forward pass without autograd."""
    nodes = [d for _, d in g.nodes(data=True)]
    skips = sum(
        d["channels_out"] * _pixels(g, d, size) for d in nodes if d["kind"] == "stage" and d["role"] == "encoder"
    )
    widest = max(max(d["channels_in"], d["channels_out"]) * _pixels(g, d, size) for d in nodes)
    images = (g.graph["in_channels"] + g.graph["out_channels"]) * _pixels(g, {"level": 0}, size)
    return int((skips + INFER_MAPS * widest + images) * batch * BYTES)


SCREEN_PER_BLOCK = 64  # parameters per C^2 of a block, far above the shipped kinds' (7 to 10)


def screen_params(g: nx.DiGraph) -> int:
    """A quick, generous bound on the parameter count: `SCREEN_PER_BLOCK` C^2 per block, 16 Cin Cout
    per other op. Only for skipping the exact count when even this bound is small."""
    total = 0
    for _, d in g.nodes(data=True):
        c_in, c_out = d["channels_in"], d["channels_out"]
        total += d["repeat"] * SCREEN_PER_BLOCK * c_out * c_out if d["kind"] == "stage" else 16 * c_in * c_out
    return total


def for_weights(params: int) -> MemoryEstimate:
    """Building the module: its parameters."""
    return MemoryEstimate("building the network", params * BYTES, 0, 0)


def for_export(params: int, g: nx.DiGraph, sample: tuple[int, int] = (64, 64)) -> MemoryEstimate:
    """Exporting to ONNX at a `sample` input."""
    return MemoryEstimate(
        "exporting to ONNX",
        params * BYTES,
        (EXPORT_COPIES - 1) * params * BYTES,
        inference_activations(g, sample),
        "the export's copies of the weights",
    )


def for_training(params: int, g: nx.DiGraph, crop: int, batch: int, *, average: bool = False) -> MemoryEstimate:
    """One training step on `batch` crops of `crop x crop` (AdamW; `average`: a weight average too)."""
    copies = OPTIMIZER_COPIES + (1 if average else 0)
    return MemoryEstimate(
        "training", params * BYTES, copies * params * BYTES, training_activations(g, (crop, crop), batch)
    )


def for_inference(params: int, g: nx.DiGraph, size: tuple[int, int], batch: int = 1) -> MemoryEstimate:
    """Restoring `batch` images of `size` (H, W)."""
    return MemoryEstimate("restoring", params * BYTES, 0, inference_activations(g, size, batch))


def inference_bytes_per_pixel(g: nx.DiGraph) -> float:
    """Feature-map bytes per input pixel in inference (for choosing a tile size)."""
    side = 2 ** (g.graph["levels"] + 4)
    return inference_activations(g, (side, side)) / (side * side)
