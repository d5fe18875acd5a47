"""Small layers shared by the calibration networks."""

from __future__ import annotations

from torch import nn


def conv(
    cin: int,
    cout: int,
    k: int,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
    bias: bool = True,
    padding: int | None = None,
) -> nn.Conv2d:
    pad = dilation * (k // 2) if padding is None else padding
    return nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=bias)


def conv_bn(
    cin: int,
    cout: int,
    k: int,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
    act: type[nn.Module] | None = nn.ReLU,
) -> nn.Sequential:
    """conv (no bias) -> BatchNorm -> activation; exported with the BatchNorm folded into the conv."""
    mods: list[nn.Module] = [conv(cin, cout, k, stride, groups, dilation, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        mods.append(act())
    return nn.Sequential(*mods)


class Residual(nn.Module):
    """x + scale * body(x)."""

    def __init__(self, body: nn.Module, scale: float = 1.0) -> None:
        super().__init__()
        self.body = body
        self.scale = scale

    def forward(self, x):  # type: ignore[no-untyped-def]
        return x + self.body(x) * self.scale if self.scale != 1.0 else x + self.body(x)


class Classifier(nn.Module):
    """features -> global average pool -> linear (the classification backbones' head)."""

    def __init__(self, features: nn.Module, channels: int, classes: int = 1000) -> None:
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.fc(self.pool(self.features(x)).flatten(1))
