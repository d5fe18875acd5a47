"""The pass list: levels, selection, and the optimized export against the official fixture."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

import archc
from archc.compiler.onnx_export import to_onnx_model
from archc.compiler.passes import PASSES, optimize, passes_for, select

from helpers import fixture


def test_levels_are_nested_and_ordered() -> None:
    order = [p.name for p in PASSES]
    assert passes_for(0) == ()
    for target in ("onnx", "torch"):
        o1, o2 = passes_for(1, target), passes_for(2, target)
        assert set(o1) <= set(o2)
        assert list(o2) == sorted(o2, key=order.index)
    assert "symbolic_shapes" in passes_for(2, "onnx") and "symbolic_shapes" not in passes_for(2, "torch")
    assert "channels_last" in passes_for(2, "torch") and "channels_last" not in passes_for(2, "onnx")


def test_unknown_pass_suggests_a_name() -> None:
    with pytest.raises(archc.ArchError, match="unknown pass") as info:
        select(["fold_layernorm_afine"])
    assert "did you mean `fold_layernorm_affine`?" in info.value.render()


def test_optimized_export_matches_the_official_output(tiny_strong: nn.Module) -> None:
    x = fixture("tiny_input.pt")
    expected = fixture("tiny_strong_output.pt").numpy()  # type: ignore[attr-defined]
    plain, _ = to_onnx_model(tiny_strong, passes=passes_for(0))
    proto, _ = to_onnx_model(tiny_strong, passes=passes_for(2, "onnx"))
    y = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"image": x.numpy()})[0]  # type: ignore[attr-defined]
    assert np.abs(y - expected).max() <= 1e-4
    ops, plain_ops = Counter(n.op_type for n in proto.graph.node), Counter(n.op_type for n in plain.graph.node)
    gates = 2 * sum(1 for m in tiny_strong.modules() if hasattr(m, "GATE_CHAINS"))
    assert plain_ops["Slice"] + plain_ops["Split"] - (ops["Slice"] + ops["Split"]) == 2 * gates  # a gate: 2 Slices


def test_optimized_torch_module_matches_the_official_output(tiny_strong: nn.Module) -> None:
    fast = optimize(tiny_strong, level=2, target="torch")
    with torch.no_grad():
        y = fast(fixture("tiny_input.pt"))  # type: ignore[operator]
    assert float((y - fixture("tiny_strong_output.pt")).abs().max()) <= 1e-4  # type: ignore[operator]
    assert tiny_strong.get_submodule("encoders.0.0").beta is not None  # the original is untouched


def test_optimized_export_any_batch_and_size(tiny_strong: nn.Module) -> None:
    """The named shapes must not pin a size: other batches and odd sizes still match torch."""
    proto, _ = to_onnx_model(tiny_strong, passes=passes_for(2, "onnx"))
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(5)
    for shape in [(2, 3, 37, 45), (3, 3, 64, 80), (1, 3, 17, 100)]:
        x = torch.rand(*shape, generator=gen)
        with torch.no_grad():
            ref = tiny_strong(x).numpy()
        y = sess.run(None, {"image": x.numpy()})[0]
        assert y.shape == ref.shape and np.abs(y - ref).max() <= 1e-4, shape
