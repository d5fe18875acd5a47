from __future__ import annotations

from collections import Counter

from torch import nn

from archc.compiler.layers import SimpleGate
from archc.compiler.onnx_export import to_onnx_model
from archc.compiler.passes.split_simple_gate import GatedPair, split_simple_gate

from helpers import Compare, rewritten


def _ops(model: nn.Module) -> Counter[str]:
    proto, _ = to_onnx_model(model, passes=())
    return Counter(n.op_type for n in proto.graph.node)


def test_split_disappears_same_outputs(tiny_strong: nn.Module, max_diff: Compare) -> None:
    after = rewritten(tiny_strong, split_simple_gate)
    assert max_diff(tiny_strong, after) <= 1e-4
    assert not any(isinstance(m, SimpleGate) for m in after.modules())
    blocks = sum(1 for m in tiny_strong.modules() if hasattr(m, "GATE_CHAINS"))
    assert sum(isinstance(m, GatedPair) for m in after.modules()) == 2 * blocks
    before_ops, after_ops = _ops(tiny_strong), _ops(after)
    cuts = before_ops["Split"] + before_ops["Slice"] - after_ops["Split"] - after_ops["Slice"]
    assert cuts == 2 * 2 * blocks  # two gates per block, each was two channel Slices
    assert after_ops["Mul"] == before_ops["Mul"]  # one Mul per gate, as before


def test_other_blocks_are_left_alone(tiny_strong: nn.Module) -> None:
    import archc

    from helpers import SPECS

    model = archc.build(SPECS / "nafnet_tiny.arch", "enc1=dsconv").eval()
    after = rewritten(model, split_simple_gate)
    assert sum(isinstance(m, GatedPair) for m in after.modules()) == sum(
        isinstance(m, GatedPair) for m in rewritten(tiny_strong, split_simple_gate).modules()) - 2
