"""The macro operations of a U-Net (stem, head, down, up, skip, residual, padding) and their options.

A kind's defaults are those of the network it comes from, so a spec names an option only where it
departs from the original: NAFNet's `down conv2x2` and stem/head convs carry a bias and its
`up pixelshuffle` (conv1x1 + PixelShuffle) does not; Restormer's `down conv3x3_unshuffle` and
`up conv3x3_shuffle` have no bias; Uformer's `down conv4x4` (stride 2) and transposed-conv ups do;
MIMO-UNet's `down conv3x3` (stride 2) and `concat_reduce` are plain biased convs (their ReLU is
written `act=relu`). Kinds without a convolution (`add`, `concat`, `global`, `none`, `auto`) take no
options. Torch-free: the compiler lowers each kind (compiler/macro_ops.py).
"""

from __future__ import annotations

from attrs import field, frozen

from .diagnostics import Span

ACTIVATIONS = ("none", "relu", "lrelu", "gelu")

# setting -> kind -> default bias (None: the kind has no convolution and takes no options)
OPS: dict[str, dict[str, bool | None]] = {
    "stem": {"conv3x3": True},
    "head": {"conv3x3": True},
    "down": {"conv2x2": True, "conv3x3_unshuffle": False, "conv4x4": True, "conv3x3": True},
    "up": {"pixelshuffle": False, "conv3x3_shuffle": False, "transpose2x2": True, "transpose4x4": True},
    "skip": {"add": None, "concat": None, "concat_reduce": True},
    "residual": {"global": None, "none": None, "feature": True},
    "pad": {"auto": None, "none": None},
}

# checkpoint key layouts a network can load besides its own (the grammar lists them; compiler/layouts.py
# implements them)
LAYOUTS = ("archc", "restormer")


@frozen
class Op:
    """One macro operation: a kind, its bias and its activation (after the conv)."""

    kind: str
    bias: bool = False
    act: str = "none"
    span: Span | None = field(default=None, eq=False)

    @classmethod
    def default(cls, setting: str, kind: str) -> Op:
        return cls(kind, bool(OPS[setting][kind]))

    def text(self, setting: str) -> str:
        """Canonical text: the kind plus every option that departs from the kind's default."""
        opts = []
        if OPS[setting][self.kind] is not None and self.bias != OPS[setting][self.kind]:
            opts.append(f"bias={'on' if self.bias else 'off'}")
        if self.act != "none":
            opts.append(f"act={self.act}")
        return self.kind + (f"({', '.join(opts)})" if opts else "")

    @property
    def has_conv(self) -> bool:
        return self.kind not in ("add", "concat", "global", "none", "auto")


@frozen
class Macro:
    """Everything about a network but its stages: the resolved operations, widths and layout."""

    stem: Op
    head: Op
    down: Op
    up: Op
    skips: tuple[Op, ...]  # per level, full resolution first
    residual: Op  # global | none | feature
    widths: tuple[int, ...]  # per level, then the middle stage's
    pad: str = "auto"  # auto: inputs padded to a multiple of 2^levels; none: they must be one
    checkpoint: str = "archc"  # the key layout of release checkpoints it loads besides its own

    @classmethod
    def of(cls, levels: int, width: int) -> Macro:
        """NAFNet's macro (every default) at `width`, doubled per level."""
        return cls(Op.default("stem", "conv3x3"), Op.default("head", "conv3x3"), Op.default("down", "conv2x2"),
                   Op.default("up", "pixelshuffle"), (Op.default("skip", "add"),) * levels,
                   Op.default("residual", "global"), tuple(width * 2**level for level in range(levels + 1)))
