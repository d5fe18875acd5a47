"""Fake quantization in torch: a network whose chosen slots compute in fp16, w8a8 or w8a16.

Why simulate instead of exporting: the search scores thousands of block-and-precision mixes, and
its surrogates are torch modules (the distilled blocks); exporting, calibrating and loading a QDQ
ONNX graph per network (`compiler/quantize.py`, seconds each) would cost more than scoring it.
So the quality objective rounds in torch, with the arithmetic of the exported QDQ graph:

- every Conv2d weight of a quantized slot: int8, symmetric, one scale per output channel,
  `s_c = max |W_c| / 127`, `W' = clamp(round(W / s_c), -127, 127) * s_c`;
- activations: the input and output of each block of the slot, and the output of every conv,
  LayerNorm and SimpleGate (the gate's element-wise product) inside it; asymmetric, one range
  per tensor, uint8 (w8a8) or uint16 (w8a16): `[lo, hi]` = the extremes seen on calibration
  images (minmax, widened to hold 0),
  `s = (hi - lo) / qmax`, `z = round(-lo / s)`, `x' = (clamp(round(x / s) + z, 0, qmax) - z) * s`;
- fp16 slots: weights and the same activations rounded to FP16 (`x' = float(half(x))`).

`quantization_aware` hooks the same rounding into a network that trains: the forward pass
rounds as above, gradients pass each rounding straight through (the straight-through estimator),
and the weights stay float underneath, rounded afresh in every forward pass; on leaving it the
network holds the trained float weights, which the exporter then quantizes like any other.

Not modelled: the channel attention's scaling and the residual additions, which the exported graph
rounds too; so the simulation is slightly optimistic at w8a8. Rounding the simple gate's product
mattered: on the demo's fine-tuned w8a8 knee (nafnet_small, 24 test frames) the simulation read
0.285 dB against the QDQ graph's 0.420 dB in ONNX Runtime without it, 0.437 dB with it; on
another w8a8 pick 0.213 and 0.219 dB against 0.229 dB. Slots not named stay in float32, like the
rest of the network.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.utils.hooks import RemovableHandle

from archc.compiler.layers import SimpleGate
from archc.dsl.precision import ACTIVATION_BITS, ORIGINAL
from archc.dsl.spec import Slot
from archc.errors import SearchError

LEVELS = {name: 2**bits - 1 for name, bits in ACTIVATION_BITS.items()}  # w8a8: 255, w8a16: 65535
FLOAT = (ORIGINAL,)
WEIGHT_MAX = 127  # symmetric int8


def fake_quant_weight(w: torch.Tensor) -> torch.Tensor:
    """`w` (`C_out x ...`) rounded to symmetric int8 with one scale per output channel."""
    scale = w.detach().abs().flatten(1).amax(1).clamp_min(1e-12) / WEIGHT_MAX
    shape = (-1,) + (1,) * (w.dim() - 1)
    return (w / scale.view(shape)).round().clamp(-WEIGHT_MAX, WEIGHT_MAX) * scale.view(shape)


def fake_quant_act(x: torch.Tensor, lo: float, hi: float, qmax: int) -> torch.Tensor:
    """`x` rounded to an asymmetric unsigned grid of `qmax + 1` levels over `[lo, hi]` (holding 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max(hi - lo, 1e-12) / qmax
    zero = round(-lo / scale)
    return ((x / scale).round() + zero).clamp(0, qmax).sub(zero) * scale


def to_fp16(x: torch.Tensor) -> torch.Tensor:
    return x.half().float()


def straight_through(x: torch.Tensor, rounded: torch.Tensor) -> torch.Tensor:
    """`rounded` in the forward pass, the identity in the backward pass."""
    return x + (rounded - x).detach()


class _Tensor:
    """One activation tensor's state: the range seen while observing, then rounding (with
    gradients passed straight through when `trainable`)."""

    def __init__(self, precision: str, trainable: bool = False) -> None:
        self.precision = precision
        self.trainable = trainable
        self.lo, self.hi = float("inf"), float("-inf")
        self.observing = precision not in FLOAT

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.observing:
            self.lo, self.hi = min(self.lo, float(x.min())), max(self.hi, float(x.max()))
            return x
        rounded = to_fp16(x) if self.precision in FLOAT else fake_quant_act(x, self.lo, self.hi, LEVELS[self.precision])
        return straight_through(x, rounded) if self.trainable else rounded


class _RoundedWeight(nn.Module):
    """A conv weight rounded to its precision in every forward pass, its gradient passed straight
    through to the float weight underneath (a parametrization)."""

    def __init__(self, precision: str) -> None:
        super().__init__()
        self.precision = precision

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return straight_through(w, to_fp16(w) if self.precision in FLOAT else fake_quant_weight(w))


def _leaves(block: nn.Module) -> Iterator[nn.Module]:
    """The convs, LayerNorms and SimpleGates inside a block, whose outputs the exported graph quantizes."""
    for m in block.modules():
        if isinstance(m, (nn.Conv2d, SimpleGate)) or "Norm" in type(m).__name__:
            yield m


def _round_weights(block: nn.Module, precision: str) -> None:
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(to_fp16(m.weight) if precision in FLOAT else fake_quant_weight(m.weight))


def _hook_output(tensor: _Tensor) -> Callable[..., torch.Tensor]:
    return lambda module, args, out: tensor(out)


def _hook_input(tensor: _Tensor) -> Callable[..., tuple[torch.Tensor, ...]]:
    return lambda module, args: (tensor(args[0]), *args[1:])


def _parametrize_weights(block: nn.Module, precision: str) -> list[nn.Module]:
    convs: list[nn.Module] = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    for conv in convs:
        parametrize.register_parametrization(conv, "weight", _RoundedWeight(precision))
    return convs


def _instrument(block: nn.Module, precision: str, trainable: bool) -> tuple[list[_Tensor], list[RemovableHandle]]:
    """Round `block`'s weights (in place, or in every forward pass when `trainable`) and hook its
    activations; returns their states and the hooks."""
    if not trainable:
        _round_weights(block, precision)
    tensors = [_Tensor(precision, trainable) for _ in range(2)]
    handles = [
        block.register_forward_pre_hook(_hook_input(tensors[0])),
        block.register_forward_hook(_hook_output(tensors[1])),
    ]
    for leaf in _leaves(block):
        tensors.append(_Tensor(precision, trainable))
        handles.append(leaf.register_forward_hook(_hook_output(tensors[-1])))
    return tensors, handles


def _slot_blocks(
    model: nn.Module, slots: Sequence[Slot], precisions: Mapping[str, str]
) -> Iterator[tuple[nn.Module, str]]:
    """(block, its precision) for every block of the slots `precisions` names."""
    for slot in slots:
        precision = precisions.get(slot.name)
        if precision is not None:
            for block in model.stage_module(slot.stage)[slot.start:slot.stop]:  # type: ignore[operator]
                yield block, precision


def _check(precisions: Mapping[str, str]) -> None:
    for slot, p in precisions.items():
        if p not in FLOAT and p not in LEVELS:
            raise SearchError(f"unknown precision `{p}` for slot `{slot}`", code="E0712",
                              help="the search precisions are `fp16`, `w8a8` and `w8a16`")


def simulate(model: nn.Module, slots: Sequence[Slot], precisions: Mapping[str, str],
             calibration: torch.Tensor | None) -> nn.Module:
    """`model` (an ArchNet, changed in place) with each slot of `slots` in its precision from
    `precisions` (slot name -> `fp16` | `w8a8` | `w8a16`), activation ranges observed on the
    `calibration` batch (`N x C x H x W`; needed when a slot is w8a8 or w8a16)."""
    _check(precisions)
    tensors: list[_Tensor] = []
    for block, precision in _slot_blocks(model, slots, precisions):
        tensors += _instrument(block, precision, trainable=False)[0]
    _observe(model, calibration, tensors)
    return model


@contextlib.contextmanager
def quantization_aware(model: nn.Module, slots: Sequence[Slot], precisions: Mapping[str, str],
                       calibration: torch.Tensor | None) -> Iterator[nn.Module]:
    """`model` (an ArchNet, changed in place) rounding each slot of `slots` as `simulate` does,
    with gradients passed straight through to its float weights, while the block runs; activation
    ranges observed once, on `calibration`, before training. On leaving, the hooks and the weight
    rounding are removed and `model` holds its (trained) float weights."""
    _check(precisions)
    tensors: list[_Tensor] = []
    handles: list[RemovableHandle] = []
    convs: list[nn.Module] = []
    try:
        for block, precision in _slot_blocks(model, slots, precisions):
            convs += _parametrize_weights(block, precision)
            got, hooks = _instrument(block, precision, trainable=True)
            tensors += got
            handles += hooks
        _observe(model, calibration, tensors)
        yield model
    finally:
        for handle in handles:
            handle.remove()
        for conv in convs:
            parametrize.remove_parametrizations(conv, "weight", leave_parametrized=False)


def _observe(model: nn.Module, calibration: torch.Tensor | None, tensors: list[_Tensor]) -> None:
    """Record each quantized tensor's range on `calibration` (when any tensor is quantized)."""
    if not any(t.observing for t in tensors):
        return
    if calibration is None:
        raise SearchError("a quantized slot needs calibration images", code="E0713")
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    with torch.inference_mode():
        model.eval()(calibration.to(device))
    for t in tensors:
        t.observing = False
