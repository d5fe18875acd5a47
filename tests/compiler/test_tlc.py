"""TLC against an independent integral-image box mean, as the facts describe it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import archc
from archc.compiler.tlc import LocalAvgPool2d

from helpers import SPECS


def _integral_box_mean(x: torch.Tensor, k1: int, k2: int) -> torch.Tensor:
    s = F.pad(x.double().cumsum(-2).cumsum(-1), (1, 0, 1, 0))
    out = (s[..., k1:, k2:] - s[..., :-k1, k2:] - s[..., k1:, :-k2] + s[..., :-k1, :-k2]) / (k1 * k2)
    h, w = x.shape[-2:]
    dh, dw = h - out.shape[-2], w - out.shape[-1]
    top, left = dh // 2, dw // 2
    rows = [min(max(i - top, 0), out.shape[-2] - 1) for i in range(h)]
    cols = [min(max(j - left, 0), out.shape[-1] - 1) for j in range(w)]
    return out[..., rows, :][..., cols].float()


def test_local_pool_matches_integral_image_with_odd_padding() -> None:
    pool = LocalAvgPool2d((384, 384), (256, 256))
    pool(torch.zeros(1, 2, 16, 16))  # calibration: kernel = 16 * 384 // 256 = 24
    assert pool.kernel_size == (24, 24)
    x = torch.rand(1, 2, 40, 31)
    assert torch.allclose(pool(x), _integral_box_mean(x, 24, 24), atol=1e-5)


def test_window_covering_the_map_is_global_average() -> None:
    pool = LocalAvgPool2d((384, 384), (256, 256))
    pool(torch.zeros(1, 1, 16, 16))
    x = torch.rand(1, 3, 20, 24)
    assert torch.allclose(pool(x), x.mean((2, 3), keepdim=True))


def test_tlc_changes_nothing_at_training_size_and_something_above() -> None:
    spec = archc.parse(SPECS / "nafnet_tiny.arch")
    torch.manual_seed(0)
    plain = archc.build(spec).eval()
    with torch.no_grad():
        for p in plain.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    local = archc.build(spec)
    local.load_state_dict(plain.state_dict())
    archc.compiler.tlc.apply_tlc(local, (32, 32))
    pools = [m for m in local.modules() if isinstance(m, LocalAvgPool2d)]
    assert len(pools) == 10 and pools[0].kernel_size == (48, 48)
    small, big = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 96, 128)
    with torch.no_grad():
        assert torch.allclose(plain(small), local(small), atol=1e-6)
        assert not torch.allclose(plain(big), local(big), atol=1e-4)
    assert len([m for m in archc.build(spec, tlc_train_size=(32, 32)).modules()
                if isinstance(m, LocalAvgPool2d)]) == 10
