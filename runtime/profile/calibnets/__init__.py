"""Calibration networks: the published AI Hub models of shared/facts/s24_calibration.md, rebuilt
as PyTorch modules from the architecture notes there (no code from their projects), so the cost
model can see their op profiles. `INPUTS` gives the shape each was profiled at (from model.py)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from archc.diagnostics import quoted_list, unknown_name_help
from archc.errors import ProfileError

from ..workload import Workload
from . import backbones, dense, sr, transformers

BUILDERS: dict[str, Callable[[], nn.Module]] = {
    **sr.BUILDERS, **dense.BUILDERS, **backbones.BUILDERS, **transformers.BUILDERS}
INPUTS: dict[str, tuple[int, int, int]] = {
    **{name: (3, 128, 128) for name in sr.BUILDERS},
    "unet_segmentation": (3, 640, 1280),
    "aotgan": (4, 512, 512),
    "fcn_resnet50": (3, 520, 520),
    **{name: (3, 224, 224) for name in backbones.BUILDERS},
    **transformers.INPUTS,
}


def build(name: str) -> nn.Module:
    if name not in BUILDERS:
        raise ProfileError(
            f"unknown calibration network `{name}`",
            code="E0830",
            help=unknown_name_help(name, BUILDERS, f"known: {quoted_list(BUILDERS)}"),
        )
    return BUILDERS[name]().eval()


def workload(name: str, size: tuple[int, int] | None = None) -> Workload:
    """Calibration network `name` at its published input size (or `size`)."""
    module = build(name)
    c, h, w = INPUTS[name]
    hw = size or (h, w)
    return Workload(f"calib:{name}@{c}x{hw[0]}x{hw[1]}", module, c, hw)
