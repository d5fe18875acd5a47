"""Dense-prediction and inpainting networks of AI Hub, rebuilt from the layer descriptions in
shared/facts/s24_calibration.md sections 1-2: the UNet segmenter (640 x 1280), AOT-GAN (512 x 512,
image and mask given here as one 4-channel input) and FCN-ResNet50 (520 x 520)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import resnet_features
from .layers import conv, conv_bn


def double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(conv_bn(cin, cout, 3), conv_bn(cout, cout, 3))


class UNet(nn.Module):
    """milesial UNet, transposed-conv upsampling, 64...1024 channels, 2 classes."""

    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        widths = (64, 128, 256, 512, 1024)
        self.inc = double_conv(3, 64)
        self.downs = nn.ModuleList(
            nn.Sequential(nn.MaxPool2d(2), double_conv(a, b)) for a, b in zip(widths, widths[1:], strict=False)
        )
        self.ups = nn.ModuleList(nn.ConvTranspose2d(b, a, 2, 2) for a, b in zip(widths, widths[1:], strict=False))
        self.convs = nn.ModuleList(double_conv(b, a) for a, b in zip(widths, widths[1:], strict=False))
        self.out = conv(64, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up, block in zip(reversed(self.ups), reversed(self.convs), strict=True):
            y = block(torch.cat([skips.pop(), up(y)], 1))
        return self.out(y)


def spatial_norm(x: torch.Tensor) -> torch.Tensor:
    """AOT-GAN's per-channel spatial mean/std normalisation, written out as AI Hub's patch does."""
    mean = x.mean((2, 3), keepdim=True)
    d = x - mean
    n = x.shape[2] * x.shape[3]
    std = (d.pow(2).sum((2, 3), keepdim=True) / (n - 1)).sqrt() + 1e-9
    return 5 * (2 * d / std - 1)


class AOTBlock(nn.Module):
    """Four dilated 3x3 branches (256 -> 64; dilation 1/2/4/8, reflection pads), concat, fuse and
    gate convs, spatial-statistics normalisation, sigmoid gate, blend."""

    def __init__(self, c: int = 256, rates: tuple[int, ...] = (1, 2, 4, 8)) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(nn.ReflectionPad2d(r), conv(c, c // 4, 3, dilation=r, padding=0), nn.ReLU()) for r in rates
        )
        self.fuse = nn.Sequential(nn.ReflectionPad2d(1), conv(c, c, 3, padding=0))
        self.gate = nn.Sequential(nn.ReflectionPad2d(1), conv(c, c, 3, padding=0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fuse(torch.cat([b(x) for b in self.branches], 1))
        mask = torch.sigmoid(spatial_norm(self.gate(x)))
        return x * (1 - mask) + out * mask


class UpConv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = conv(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True))


def aotgan() -> nn.Module:
    encoder = [
        nn.ReflectionPad2d(3),
        conv(4, 64, 7, padding=0),
        nn.ReLU(),
        conv(64, 128, 4, 2, padding=1),
        nn.ReLU(),
        conv(128, 256, 4, 2, padding=1),
        nn.ReLU(),
    ]
    decoder = [UpConv(256, 128), nn.ReLU(), UpConv(128, 64), nn.ReLU(), conv(64, 3, 3), nn.Tanh()]
    return nn.Sequential(*encoder, *(AOTBlock() for _ in range(8)), *decoder)


class FCN(nn.Module):
    """FCN-ResNet50: dilated ResNet-50 (output stride 8), 3x3 head to 512, 1x1 to 21, bilinear up."""

    def __init__(self, classes: int = 21) -> None:
        super().__init__()
        self.backbone, c = resnet_features((3, 4, 6, 3), dilate=(False, True, True))
        self.head = nn.Sequential(conv_bn(c, 512, 3), conv(512, classes, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.head(self.backbone(x))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


BUILDERS = {"unet_segmentation": UNet, "aotgan": aotgan, "fcn_resnet50": FCN}
