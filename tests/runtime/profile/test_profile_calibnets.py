"""The transformer / hybrid calibration networks rebuild the published ones: parameter counts and
multiply-accumulates (convs, Linear and attention MatMuls, counted by PyTorch's FLOP counter at the
profiled input) as their sources publish them; and the cost model's graph sees their attention."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from archc.runtime.profile import calibnets
from archc.runtime.profile.graph import profile_graph, summarize
from archc.runtime.profile.s24calib import group

# name: (parameters, GMACs at the profiled input), as published: torchvision vit_b_16; Hugging Face
# microsoft/beit-base-patch16-224 and timm beit_base_patch16_224; timm mobilevit_s (256 x 256);
# timm efficientformer_l1
PUBLISHED = {
    "vit_b16": (86_567_656, 17.56),
    "beit_b16": (86.53e6, 17.58),
    "mobilevit_s": (5.58e6, 2.03),
    "efficientformer_l1": (12.29e6, 1.30),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_a_transformer_network_has_its_published_size(name: str) -> None:
    params, gmacs = PUBLISHED[name]
    net = calibnets.build(name)
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(params, rel=5e-3)
    c, h, w = calibnets.INPUTS[name]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, c, h, w))
    assert counter.get_total_flops() / 2e9 == pytest.approx(gmacs, rel=0.03)
    assert group(calibnets.workload(name).key) == "transformer"


def test_the_graph_sees_attention_and_counts_the_same_macs() -> None:
    name = "efficientformer_l1"
    ops = profile_graph(calibnets.workload(name).onnx_model())
    summary = summarize(ops)
    assert summary["penalised"]["attention"] == 2 and summary["penalised"]["softmax"] == 1
    assert summary["penalised"]["relayout"] >= 3
    net = calibnets.build(name)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, *calibnets.INPUTS[name]))
    assert summary["macs"] == pytest.approx(counter.get_total_flops() / 2, rel=1e-3)
    assert group("calib:resnet50@3x224x224") == "conv"
