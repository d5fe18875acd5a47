"""x4 super-resolution networks of AI Hub (input 1 x 3 x 128 x 128), rebuilt from the layer
descriptions in shared/facts/s24_calibration.md section 1 (widths chosen to match its MACs)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import Residual, conv


class PlainSR(nn.Module):
    """QuickSRNet: conv-hardtanh stack at `width`, a conv to 48 channels, DepthToSpace(4)."""

    def __init__(self, width: int, hidden: int, anchor: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv(3, width, 3), nn.Hardtanh()]
        for _ in range(hidden):
            layers += [conv(width, width, 3), nn.Hardtanh()]
        layers.append(conv(width, 48, 3))
        self.body = nn.Sequential(*layers)
        self.anchor = conv(3, 48, 1) if anchor else None
        self.up = nn.PixelShuffle(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.anchor is not None:
            y = y + self.anchor(x)
        return self.up(y).clamp(0.0, 1.0)


class XLSR(nn.Module):
    """3x3 conv, 1x1 conv, three grouped-conv blocks (groups 4), concat, 1x1, 3x3 to 48, D2S(4), clip."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = conv(3, 32, 3)
        self.proj = conv(3, 32, 1)
        self.gblocks = nn.ModuleList(nn.Sequential(conv(32, 32, 3, groups=4), nn.ReLU()) for _ in range(3))
        self.fuse = conv(128, 32, 1)
        self.tail = conv(32, 48, 3)
        self.up = nn.PixelShuffle(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [self.proj(x)]
        y = self.stem(x)
        for block in self.gblocks:
            y = block(y)
            feats.append(y)
        return self.up(self.tail(F.relu(self.fuse(torch.cat(feats, 1))))).clamp(0.0, 1.0)


def sesr_m5() -> nn.Module:
    """SESR-M5 exported uncollapsed: k x k conv to 256 then 1x1 back to 16, five residual blocks."""

    def expanded(cin: int, k: int, cout: int) -> nn.Sequential:
        return nn.Sequential(conv(cin, 256, k), conv(256, cout, 1))

    blocks = [Residual(nn.Sequential(expanded(16, 3, 16), nn.PReLU(16))) for _ in range(5)]
    return nn.Sequential(expanded(3, 5, 16), nn.PReLU(16), *blocks, expanded(16, 5, 48), nn.PixelShuffle(4))


class SRVGG(nn.Module):
    """Real-ESRGAN-General-x4v3: 34 convs at 64 channels with PReLU, D2S(4), + nearest-upsampled input."""

    def __init__(self, width: int = 64, hidden: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv(3, width, 3), nn.PReLU(width)]
        for _ in range(hidden):
            layers += [conv(width, width, 3), nn.PReLU(width)]
        layers += [conv(width, 48, 3), nn.PixelShuffle(4)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + F.interpolate(x, scale_factor=4, mode="nearest")


class RDB(nn.Module):
    """Residual dense block: five 3x3 convs with dense concatenation (growth 32), scaled residual."""

    def __init__(self, c: int = 64, growth: int = 32) -> None:
        super().__init__()
        self.convs = nn.ModuleList(conv(c + i * growth, growth if i < 4 else c, 3) for i in range(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for i, layer in enumerate(self.convs):
            y = layer(torch.cat(feats, 1))
            if i < 4:
                feats.append(F.leaky_relu(y, 0.2))
        return x + 0.2 * y


class RRDBNet(nn.Module):
    """ESRGAN / Real-ESRGAN-x4plus: 23 RRDBs (3 RDBs each) at 64 channels, two nearest x2 + conv."""

    def __init__(self, blocks: int = 23, c: int = 64) -> None:
        super().__init__()
        self.first = conv(3, c, 3)
        self.body = nn.Sequential(*(Residual(nn.Sequential(RDB(c), RDB(c), RDB(c)), 0.2) for _ in range(blocks)))
        self.trunk = conv(c, c, 3)
        self.up1, self.up2, self.hr, self.last = conv(c, c, 3), conv(c, c, 3), conv(c, c, 3), conv(c, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.first(x)
        feat = feat + self.trunk(self.body(feat))
        feat = F.leaky_relu(self.up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        feat = F.leaky_relu(self.up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        return self.last(F.leaky_relu(self.hr(feat), 0.2))


BUILDERS = {
    "xlsr": XLSR,
    "quicksrnet_small": lambda: PlainSR(32, 2),
    "quicksrnet_medium": lambda: PlainSR(32, 5),
    "quicksrnet_large": lambda: PlainSR(64, 11, anchor=True),
    "sesr_m5": sesr_m5,
    "real_esrgan_general_x4v3": SRVGG,
    "real_esrgan_x4plus": RRDBNet,
}
