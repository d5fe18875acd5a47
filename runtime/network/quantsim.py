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

Not modelled: the channel attention's scaling and the residual additions, which the exported graph
rounds too; so the simulation is slightly optimistic at w8a8. Rounding the simple gate's product
mattered: on the demo's fine-tuned w8a8 knee (nafnet_small, 24 test frames) the simulation read
0.285 dB against the QDQ graph's 0.420 dB in ONNX Runtime without it, 0.437 dB with it; on
another w8a8 pick 0.213 and 0.219 dB against 0.229 dB. Slots not named stay in float32, like the
rest of the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import torch
from torch import nn

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


class _Tensor:
    """One activation tensor's state: the range seen while observing, then rounding."""

    def __init__(self, precision: str) -> None:
        self.precision = precision
        self.lo, self.hi = float("inf"), float("-inf")
        self.observing = precision not in FLOAT

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.precision in FLOAT:
            return to_fp16(x)
        if self.observing:
            self.lo, self.hi = min(self.lo, float(x.min())), max(self.hi, float(x.max()))
            return x
        return fake_quant_act(x, self.lo, self.hi, LEVELS[self.precision])


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


def _instrument(block: nn.Module, precision: str) -> list[_Tensor]:
    """Round `block`'s weights and hook its activations; returns their states."""
    _round_weights(block, precision)
    tensors = [_Tensor(precision) for _ in range(2)]
    block.register_forward_pre_hook(_hook_input(tensors[0]))
    block.register_forward_hook(_hook_output(tensors[1]))
    for leaf in _leaves(block):
        tensors.append(_Tensor(precision))
        leaf.register_forward_hook(_hook_output(tensors[-1]))
    return tensors


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
    for slot in slots:
        precision = precisions.get(slot.name)
        if precision is None:
            continue
        for block in model.stage_module(slot.stage)[slot.start:slot.stop]:  # type: ignore[operator]
            tensors += _instrument(block, precision)
    if any(t.observing for t in tensors):
        if calibration is None:
            raise SearchError("a quantized slot needs calibration images", code="E0713")
        _observe(model, calibration, tensors)
    return model


def _observe(model: nn.Module, calibration: torch.Tensor, tensors: list[_Tensor]) -> None:
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    with torch.inference_mode():
        model.eval()(calibration.to(device))
    for t in tensors:
        t.observing = False
