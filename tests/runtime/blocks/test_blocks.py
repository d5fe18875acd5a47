"""Every registered block kind, tested without anyone writing a test for it:
shape preservation, MAC formula vs hook count, ONNX export == torch, identity at init."""

from __future__ import annotations

import attrs
import numpy as np
import onnxruntime as ort
import pytest
import torch

from archc.compiler.blocks import all_blocks
from archc.compiler.onnx_export import to_onnx_model

from macs import hook_macs

BLOCKS = sorted(all_blocks())


def _randomise(module: torch.nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)


class _Wrap(torch.nn.Module):
    def __init__(self, block: torch.nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


@pytest.mark.parametrize("name", BLOCKS)
def test_block_keeps_shape(name: str) -> None:
    defn = all_blocks()[name]
    block = defn.build(defn.params(), 16).eval()
    x = torch.rand(2, 16, 11, 13)
    assert block(x).shape == x.shape


@pytest.mark.parametrize("name", BLOCKS)
@pytest.mark.parametrize(("c", "h", "w"), [(8, 16, 16), (32, 7, 9)])
def test_mac_formula_matches_hook_count(name: str, c: int, h: int, w: int) -> None:
    defn = all_blocks()[name]
    params = defn.params()
    block = defn.build(params, c).eval()
    assert defn.macs(params, c, h, w) == hook_macs(block, torch.rand(1, c, h, w))


@pytest.mark.parametrize("name", BLOCKS)
def test_fresh_block_is_identity(name: str) -> None:
    """Residual scales start at zero (as in NAFNet), so surrogates start from the skip path."""
    defn = all_blocks()[name]
    block = defn.build(defn.params(), 8).eval()
    x = torch.rand(1, 8, 6, 6)
    with torch.no_grad():
        assert torch.allclose(block(x), x)


@pytest.mark.parametrize("name", BLOCKS)
def test_onnx_export_matches_torch(name: str) -> None:
    defn = all_blocks()[name]
    block = _Wrap(defn.build(defn.params(), 8))
    _randomise(block)
    block.eval()
    proto, _ = to_onnx_model(block, in_channels=8, sample=(16, 16))
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = torch.rand(1, 8, 19, 23)
    (y,) = sess.run(None, {"image": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(y, block(x).numpy(), atol=1e-4, rtol=1e-4)
    if name == "naf_bn":
        assert "BatchNormalization" not in {n.op_type for n in proto.graph.node}


@pytest.mark.parametrize("name", BLOCKS)
def test_params_class_matches_fragment(name: str) -> None:
    """Every parameter the grammar accepts exists in the params class, and vice versa."""
    import archc

    defn = all_blocks()[name]
    fields = [f.name for f in attrs.fields(defn.params)]
    keys = {archc.load_grammar().display[t].strip("`") for t in archc.load_grammar().param_keys.get(name, ())}
    assert keys == set(fields)
