"""Classification backbones of AI Hub (input 1 x 3 x 224 x 224), rebuilt from their published
layer configurations (torchvision's model definitions, as named in shared/facts/s24_calibration.md
section 3), plus the dilated ResNet-50 used by FCN."""

from __future__ import annotations

import torch
from torch import nn

from .layers import Classifier, Residual, conv, conv_bn


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride, groups, dilation) -> 1x1 x4, with a projection shortcut when needed."""

    def __init__(
        self, cin: int, planes: int, stride: int, width: int, groups: int, dilation: int = 1, expansion: int = 4
    ) -> None:
        super().__init__()
        cout = planes * expansion
        self.body = nn.Sequential(
            conv_bn(cin, width, 1),
            conv_bn(width, width, 3, stride, groups, dilation),
            conv_bn(width, cout, 1, act=None),
        )
        self.short = conv_bn(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.short(x))


class Basic(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, planes, 3, stride), conv_bn(planes, planes, 3, act=None))
        self.short = conv_bn(cin, planes, 1, stride, act=None) if stride != 1 or cin != planes else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.short(x))


def resnet_features(
    depths: tuple[int, ...],
    bottleneck: bool = True,
    groups: int = 1,
    base_width: int = 64,
    dilate: tuple[bool, bool, bool] = (False, False, False),
) -> tuple[nn.Sequential, int]:
    """ResNet stem + 4 stages; returns (features, output channels)."""
    mods: list[nn.Module] = [conv_bn(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1)]
    cin, dilation = 64, 1
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
        stride = 1 if i == 0 else 2
        if i > 0 and dilate[i - 1]:
            dilation, stride = dilation * stride, 1
        for j in range(n):
            s = stride if j == 0 else 1
            if bottleneck:
                width = int(planes * base_width / 64) * groups
                mods.append(Bottleneck(cin, planes, s, width, groups, dilation))
                cin = planes * 4
            else:
                mods.append(Basic(cin, planes, s))
                cin = planes
    return nn.Sequential(*mods), cin


def resnet(depths: tuple[int, ...], bottleneck: bool = True, groups: int = 1, base_width: int = 64) -> nn.Module:
    feats, c = resnet_features(depths, bottleneck, groups, base_width)
    return Classifier(feats, c)


def inverted_residual(
    cin: int, cout: int, stride: int, expand: int, k: int = 3, se: bool = False, act: type[nn.Module] = nn.ReLU6
) -> nn.Module:
    hidden = cin * expand
    mods: list[nn.Module] = [conv_bn(cin, hidden, 1, act=act)] if expand != 1 else []
    mods.append(conv_bn(hidden, hidden, k, stride, groups=hidden, act=act))
    if se:
        mods.append(SqueezeExcite(hidden, max(1, cin // 4)))
    mods.append(conv_bn(hidden, cout, 1, act=None))
    body = nn.Sequential(*mods)
    return Residual(body) if stride == 1 and cin == cout else body


class SqueezeExcite(nn.Module):
    """Global average pool -> 1x1 -> SiLU -> 1x1 -> sigmoid -> channel scale."""

    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.fc = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), conv(c, squeeze, 1), nn.SiLU(), conv(squeeze, c, 1), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x)


def mobilenet_v2() -> nn.Module:
    cfg = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
    mods: list[nn.Module] = [conv_bn(3, 32, 3, 2, act=nn.ReLU6)]
    cin = 32
    for t, c, n, s in cfg:
        for i in range(n):
            mods.append(inverted_residual(cin, c, s if i == 0 else 1, t))
            cin = c
    mods.append(conv_bn(cin, 1280, 1, act=nn.ReLU6))
    return Classifier(nn.Sequential(*mods), 1280)


def efficientnet_b0() -> nn.Module:
    cfg = (
        (1, 3, 1, 16, 1),
        (6, 3, 2, 24, 2),
        (6, 5, 2, 40, 2),
        (6, 3, 2, 80, 3),
        (6, 5, 1, 112, 3),
        (6, 5, 2, 192, 4),
        (6, 3, 1, 320, 1),
    )
    mods: list[nn.Module] = [conv_bn(3, 32, 3, 2, act=nn.SiLU)]
    cin = 32
    for t, k, s, c, n in cfg:
        for i in range(n):
            mods.append(inverted_residual(cin, c, s if i == 0 else 1, t, k, se=True, act=nn.SiLU))
            cin = c
    mods.append(conv_bn(cin, 1280, 1, act=nn.SiLU))
    return Classifier(nn.Sequential(*mods), 1280)


class Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, e1: int, e3: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(conv(cin, squeeze, 1), nn.ReLU())
        self.e1 = nn.Sequential(conv(squeeze, e1, 1), nn.ReLU())
        self.e3 = nn.Sequential(conv(squeeze, e3, 3), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.cat([self.e1(s), self.e3(s)], 1)


def squeezenet1_1() -> nn.Module:
    pool = nn.MaxPool2d(3, 2, ceil_mode=True)
    return nn.Sequential(
        conv(3, 64, 3, 2, padding=0),
        nn.ReLU(),
        pool,
        Fire(64, 16, 64, 64),
        Fire(128, 16, 64, 64),
        pool,
        Fire(128, 32, 128, 128),
        Fire(256, 32, 128, 128),
        pool,
        Fire(256, 48, 192, 192),
        Fire(384, 48, 192, 192),
        Fire(384, 64, 256, 256),
        Fire(512, 64, 256, 256),
        conv(512, 1000, 1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit: channel split (stride 1) or two branches (stride 2), concat, shuffle."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        half = cout // 2
        self.stride = stride
        inner = cin if stride > 1 else half
        self.left = (
            nn.Sequential(conv_bn(cin, cin, 3, 2, groups=cin, act=None), conv_bn(cin, half, 1))
            if stride > 1
            else nn.Identity()
        )
        self.right = nn.Sequential(
            conv_bn(inner, half, 1), conv_bn(half, half, 3, stride, groups=half, act=None), conv_bn(half, half, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            a, b = x.chunk(2, dim=1)
            out = torch.cat([a, self.right(b)], 1)
        else:
            out = torch.cat([self.left(x), self.right(x)], 1)
        n, c, h, w = out.shape
        return out.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)


def shufflenet_v2_x0_5() -> nn.Module:
    mods: list[nn.Module] = [conv_bn(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1)]
    cin = 24
    for repeats, c in zip((4, 8, 4), (48, 96, 192), strict=True):
        mods += [ShuffleUnit(cin if i == 0 else c, c, 2 if i == 0 else 1) for i in range(repeats)]
        cin = c
    mods.append(conv_bn(cin, 1024, 1))
    return Classifier(nn.Sequential(*mods), 1024)


class ConvNeXtBlock(nn.Module):
    """7x7 depthwise -> LayerNorm (channels last) -> Linear x4 -> GELU -> Linear -> layer scale."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.dw = conv(c, c, 7, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))
        self.scale = nn.Parameter(torch.full((c,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mlp(self.norm(self.dw(x).permute(0, 2, 3, 1))) * self.scale
        return x + y.permute(0, 3, 1, 2)


class ChannelsLN(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(c, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def convnext_tiny() -> nn.Module:
    dims, depths = (96, 192, 384, 768), (3, 3, 9, 3)
    mods: list[nn.Module] = [conv(3, 96, 4, 4, padding=0), ChannelsLN(96)]
    for i, (d, n) in enumerate(zip(dims, depths, strict=True)):
        if i > 0:
            mods += [ChannelsLN(dims[i - 1]), conv(dims[i - 1], d, 2, 2, padding=0)]
        mods += [ConvNeXtBlock(d) for _ in range(n)]
    return Classifier(nn.Sequential(*mods), 768)


BUILDERS = {
    "resnet18": lambda: resnet((2, 2, 2, 2), bottleneck=False),
    "resnet50": lambda: resnet((3, 4, 6, 3)),
    "resnet101": lambda: resnet((3, 4, 23, 3)),
    "resnext50": lambda: resnet((3, 4, 6, 3), groups=32, base_width=4),
    "wideresnet50": lambda: resnet((3, 4, 6, 3), base_width=128),
    "mobilenet_v2": mobilenet_v2,
    "efficientnet_b0": efficientnet_b0,
    "squeezenet1_1": squeezenet1_1,
    "shufflenet_v2": shufflenet_v2_x0_5,
    "convnext_tiny": convnext_tiny,
}
