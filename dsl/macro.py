"""The macro operations of a U-Net (stem, head, down, up, skip, residual, padding) and their options.

A kind's defaults are those of the network it comes from, so a spec names an option only where it
departs from the original: NAFNet's `down conv2x2` and stem/head convs carry a bias and its
`up pixelshuffle` (conv1x1 + PixelShuffle) does not; Restormer's `down conv3x3_unshuffle` and
`up conv3x3_shuffle` have no bias; Uformer's `down conv4x4` (stride 2) and transposed-conv ups do;
MIMO-UNet's `down conv3x3` (stride 2) and `concat_reduce` are plain biased convs (their ReLU is
written `act=relu`). Kinds without a convolution (`add`, `concat`, `global`, `none`, `auto`) take no
options. Torch-free: the compiler lowers each kind (compiler/macro_ops.py).

`KINDS` is the one list of the kinds and their facts: the grammar's keywords (`grammar_rules`), the
checks' defaults, the lowering's tables (keyed by the same names) and the MAC count read it.
"""

from __future__ import annotations

from attrs import field, frozen

from archc.diagnostics import Span

ACTIVATIONS = ("none", "relu", "lrelu", "gelu")



@frozen
class OpKind:
    """One kind of a macro operation: its default bias (None: it has no convolution and takes no
    options), the kernel area of its convolution (0: none) and how many maps that convolution writes
    per map the operation returns (4 for a conv before a PixelShuffle, else 1)."""

    bias: bool | None = None
    kernel: int = 0
    shuffle: int = 1


_CONV3X3 = OpKind(True, 9)
# setting -> kind -> its facts, in the grammar's order of alternatives
KINDS: dict[str, dict[str, OpKind]] = {
    "stem": {"conv3x3": _CONV3X3},
    "head": {"conv3x3": _CONV3X3},
    "down": {"conv2x2": OpKind(True, 4), "conv3x3_unshuffle": OpKind(False, 9), "conv4x4": OpKind(True, 16),
             "conv3x3": OpKind(True, 9)},
    "up": {"pixelshuffle": OpKind(False, 1, 4), "conv3x3_shuffle": OpKind(False, 9, 4),
           "transpose2x2": OpKind(True, 4), "transpose4x4": OpKind(True, 16)},
    "skip": {"add": OpKind(), "concat": OpKind(), "concat_reduce": OpKind(True, 1)},
    "residual": {"global": OpKind(), "none": OpKind(), "feature": OpKind(True, 1)},
    "pad": {"auto": OpKind(), "none": OpKind()},
}
NO_CONV = frozenset(kind for kinds in KINDS.values() for kind, k in kinds.items() if k.bias is None)
_RULES = {"skip": "skip_kind"}  # `skip KIND` and `skip level N: KIND` share one rule, without the keyword


def grammar_rules() -> str:
    """The grammar's rule of every setting: its keyword, one alternative per kind, and the options
    where a kind has a convolution (`!down: "down" ("conv2x2" | ...) args{op_param}?`)."""
    lines = []
    for setting, kinds in KINDS.items():
        words = [f'"{kind}"' for kind in kinds]
        alternatives = words[0] if len(words) == 1 else f"({' | '.join(words)})"
        keyword = "" if setting in _RULES else f'"{setting}" '
        options = " args{op_param}?" if any(k.bias is not None for k in kinds.values()) else ""
        lines.append(f"!{_RULES.get(setting, setting)}: {keyword}{alternatives}{options}")
    return "\n".join(lines)

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
        return cls(kind, bool(KINDS[setting][kind].bias))

    def text(self, setting: str) -> str:
        """Canonical text: the kind plus every option that departs from the kind's default."""
        opts = []
        default = KINDS[setting][self.kind].bias
        if default is not None and self.bias != default:
            opts.append(f"bias={'on' if self.bias else 'off'}")
        if self.act != "none":
            opts.append(f"act={self.act}")
        return self.kind + (f"({', '.join(opts)})" if opts else "")

    @property
    def has_conv(self) -> bool:
        return self.kind not in NO_CONV


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
