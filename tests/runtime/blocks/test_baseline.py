"""The spec-built NAFNet-Baseline is NAFNet's Baseline: official fixtures (float32 and float64), strict
keys, parameter counts, ONNX export, a search candidate in a NAFNet slot, and an independent
BaselineBlock written here from the facts (../shared/facts/unet_families.md), never copied code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import archc
from archc.compiler.onnx_export import export_onnx
from archc.compiler.space import SearchSpace
from archc.errors import WeightsError
from archc.runtime.blocks.baseline import BaselineBlock

from helpers import SPECS, FamilyFixture

FIX = FamilyFixture("baseline_tiny")
REF = FIX.ref
TINY = SPECS / "baseline_tiny.arch"


class RefBaselineBlock(nn.Module):
    """BaselineBlock(c, dw_expand, ffn_expand) from the facts, with functional layer norm and GELU."""

    def __init__(self, c: int, dw_expand: int, ffn_expand: int) -> None:
        super().__init__()
        d, f = c * dw_expand, c * ffn_expand
        self.norm1_w, self.norm1_b = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))
        self.norm2_w, self.norm2_b = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))
        self.conv1, self.conv2 = nn.Conv2d(c, d, 1), nn.Conv2d(d, d, 3, padding=1, groups=d)
        self.se_down, self.se_up = nn.Conv2d(d, d // 2, 1), nn.Conv2d(d // 2, d, 1)
        self.conv3, self.conv4, self.conv5 = nn.Conv2d(d, c, 1), nn.Conv2d(c, f, 1), nn.Conv2d(f, c, 1)
        self.beta, self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1)), nn.Parameter(torch.zeros(1, c, 1, 1))

    @staticmethod
    def _norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        mu = x.mean(1, keepdim=True)
        var = ((x - mu) ** 2).mean(1, keepdim=True)
        return w[None, :, None, None] * (x - mu) / torch.sqrt(var + 1e-6) + b[None, :, None, None]

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.conv2(self.conv1(self._norm(inp, self.norm1_w, self.norm1_b))))
        s = torch.sigmoid(self.se_up(torch.relu(self.se_down(x.mean((2, 3), keepdim=True)))))
        y = inp + self.beta * self.conv3(x * s)
        x = self.conv5(F.gelu(self.conv4(self._norm(y, self.norm2_w, self.norm2_b))))
        return y + self.gamma * x

    def official_state(self) -> dict[str, torch.Tensor]:
        """This block's weights under the official key names."""
        rename = {
            "norm1_w": "norm1.weight",
            "norm1_b": "norm1.bias",
            "norm2_w": "norm2.weight",
            "norm2_b": "norm2.bias",
            "se_down.weight": "se.1.weight",
            "se_down.bias": "se.1.bias",
            "se_up.weight": "se.3.weight",
            "se_up.bias": "se.3.bias",
        }
        return {rename.get(k, k): v for k, v in self.state_dict().items()}


@pytest.mark.parametrize(("dw_expand", "ffn_expand"), [(1, 2), (2, 2), (2, 3)])
def test_block_equals_independent_reference(dw_expand: int, ffn_expand: int) -> None:
    gen = torch.Generator().manual_seed(dw_expand * 10 + ffn_expand)
    ref = RefBaselineBlock(12, dw_expand, ffn_expand).double()
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.3)
    block = BaselineBlock(12, dw_expand, ffn_expand).double().eval()
    block.load_state_dict(ref.official_state(), strict=True)
    x = torch.randn(2, 12, 9, 14, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(block(x), ref(x), atol=1e-12, rtol=0)


def test_state_dict_keys_and_shapes_are_the_official_ones() -> None:
    with torch.device("meta"):
        model = archc.build(TINY)
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == list(REF["state_keys"].items())


@pytest.mark.parametrize(
    ("spec", "params"),
    [
        ("baseline_tiny.arch", 479_163),
        ("baseline_gopro.arch", 17_023_875),
        ("baseline_sidd.arch", 29_056_227),
    ],
)
def test_parameter_counts(spec: str, params: int) -> None:
    with torch.device("meta"):
        model = archc.build(SPECS / spec)
    assert sum(p.numel() for p in model.parameters()) == params
    if spec == "baseline_tiny.arch":
        assert params == REF["params"]


@pytest.mark.parametrize("wrap", [False, True], ids=["bare", "params"])
def test_official_fixture_float32(tmp_path: Path, wrap: bool) -> None:
    path = tmp_path / "baseline_tiny.pth"
    torch.save({"params": FIX.state()} if wrap else FIX.state(), path)
    model = archc.build(TINY, weights=path).eval()
    with torch.no_grad():
        y = model(FIX.tensor("input"))
    assert y.shape == tuple(REF["input_shape"])
    assert (y - FIX.tensor("output")).abs().max() <= 1e-4


def test_official_fixture_float64() -> None:
    model = archc.build(TINY).double().eval()
    model.load_state_dict({k: v.double() for k, v in FIX.state().items()}, strict=True)
    with torch.no_grad():
        y = model(FIX.tensor("input").double())
    assert (y - FIX.tensor("output_f64")).abs().max() <= 1e-8


def test_loading_is_strict(tmp_path: Path) -> None:
    state = FIX.state()
    state.pop("middle_blks.0.se.3.bias")
    torch.save(state, tmp_path / "short.pth")
    with pytest.raises(WeightsError, match="missing: middle_blks.0.se.3.bias"):
        archc.build(TINY, weights=tmp_path / "short.pth")


def test_onnx_export_matches_torch_at_a_dynamic_size(tmp_path: Path) -> None:
    model = archc.build(TINY).eval()
    model.load_state_dict(FIX.state(), strict=True)
    export_onnx(model, tmp_path / "baseline.onnx")
    sess = ort.InferenceSession(str(tmp_path / "baseline.onnx"), providers=["CPUExecutionProvider"])
    for size in [(37, 45), (50, 29)]:
        x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(size[0]))
        (y,) = sess.run(None, {"image": x.numpy()})
        with torch.no_grad():
            np.testing.assert_allclose(y, model(x).numpy(), atol=1e-4, rtol=0)


def test_baseline_is_a_search_candidate_in_a_nafnet_slot() -> None:
    text = (SPECS / "nafnet_tiny.arch").read_text().split("# Small enough")[0] + (
        "search over nafnet_tiny {\n    slots enc1, dec1\n    candidates *: naf | baseline | identity\n}\n"
    )
    spec = archc.parse(text)
    space = SearchSpace.of(spec)
    assert space.size == 9
    assert "enc1=baseline;dec1=identity" in {space.canonical(c) for c in space}
    archc.compile_ir(spec, "enc1=baseline,dec1=identity")
    model = archc.build(spec, "enc1=baseline,dec1=identity").eval()
    assert any(isinstance(m, BaselineBlock) for m in model.modules())
    x = torch.rand(1, 3, 21, 30)
    with torch.no_grad():
        assert model(x).shape == x.shape


def test_inference_passes_fold_the_declared_patterns_and_keep_the_output() -> None:
    """The block declares NORM_FEEDS and RESIDUAL_SCALES, so the module passes fold them here too."""
    from archc.compiler.passes import optimize

    model = archc.build(TINY).eval()
    model.load_state_dict(FIX.state(), strict=True)
    folded = optimize(model)
    blocks = [m for m in folded.modules() if isinstance(m, BaselineBlock)]
    assert blocks and all(b.beta is None and b.norm1.weight is None for b in blocks)
    x = FIX.tensor("input")
    with torch.no_grad():
        assert (folded(x) - model(x)).abs().max() <= 1e-5
