"""The macro forms beyond NAFNet (per-level widths, skip kinds, down/up kinds, stem/head options,
refinement, feature skip, padding) lower to the modules they name, count their MACs and parameters
like hooks on the built module do, and export to ONNX with dynamic H and W."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

import archc
from archc.compiler import macro_ops
from archc.compiler.counts import count
from archc.compiler.onnx_export import export_onnx
from archc.dsl.macro import KINDS
from archc.errors import LoweringError

from macs import hook_macs

STAGES = """
    encoder enc1: naf
    encoder enc2: dsconv
    middle mid: naf x2
    decoder dec2: naf
    decoder dec1: identity + naf
"""


def _spec(settings: str, stages: str = STAGES, name: str = "forms") -> str:
    return f"arch {name} {{\n{settings}\n{stages}}}\n"


FORMS = {
    "restormer_macro": "widths 8 16 32\n down conv3x3_unshuffle\n up conv3x3_shuffle\n"
    " skip concat_reduce(bias=off)\n skip level 1: concat\n stem conv3x3(bias=off)\n head conv3x3(bias=off)",
    "uformer_macro": "widths 8 16 32\n down conv4x4\n up transpose2x2\n skip concat\n stem conv3x3(act=lrelu)",
    "mimo_macro": "widths 8 12 20\n down conv3x3(act=relu)\n up transpose4x4(act=relu)\n"
    " skip concat_reduce(act=relu)",
    "refine_feature": "channels in 6 out 3\n width 8\n residual feature(bias=off)\n head conv3x3(act=gelu)",
    "no_pad": "width 8\n pad none\n skip level 2: concat",
}


def _randomised(model: nn.Module) -> nn.Module:
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
    return model.eval()


def _stages(form: str) -> str:
    return STAGES + ("    refine refinement: naf x2\n" if form == "refine_feature" else "")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_counts_match_hooks_and_parameters(form: str) -> None:
    g = archc.compile_ir(_spec(FORMS[form], _stages(form)))
    model = archc.build(_spec(FORMS[form], _stages(form))).eval()
    cin = g.graph["in_channels"]
    counts = count(g, (32, 48))
    assert counts.macs == hook_macs(model, torch.rand(1, cin, 32, 48))
    assert counts.params == sum(p.numel() for p in model.parameters())


def test_widths_skips_and_decoder_widths() -> None:
    spec = archc.parse(_spec(FORMS["restormer_macro"], STAGES + "    refine r: naf\n"))
    assert spec.ops.widths == (8, 16, 32)
    assert [(s.name, s.channels) for s in spec.stages] == [
        ("enc1", 8), ("enc2", 16), ("mid", 32), ("dec2", 16), ("dec1", 16), ("r", 16)]
    assert [o.kind for o in spec.ops.skips] == ["concat", "concat_reduce"]
    model = archc.build(spec)
    assert isinstance(model.downs[0][1], nn.PixelUnshuffle) and model.downs[0][0].bias is None
    assert model.ups[0][0].kernel_size == (3, 3) and model.merges[0].reduce.bias is None
    assert not hasattr(model.merges[1], "reduce") and model.intro.bias is None


def test_explicit_doubling_widths_and_defaults_equal_nafnet() -> None:
    plain = archc.parse(_spec("width 8"))
    explicit = archc.parse(_spec("widths 8 16 32\n down conv2x2(bias=on)\n up pixelshuffle(bias=off, act=none)\n"
                                 " skip add\n skip level 1: add\n pad auto\n checkpoint archc"))
    assert plain.ops == explicit.ops
    assert [s.channels for s in plain.stages] == [s.channels for s in explicit.stages]


def test_feature_skip_replaces_the_image_residual() -> None:
    text = _spec(FORMS["refine_feature"], _stages("refine_feature"))
    model = _randomised(archc.build(text))
    assert not model.global_residual and model.feature_skip.weight.shape == (8, 8, 1, 1)
    x = torch.rand(1, 6, 20, 28)
    with torch.no_grad():
        y = model(x)
        stem = model.intro(x)  # 20 x 28: already a multiple of 2^levels
        feat = model.refinement(_decoded(model, stem))
        with_skip = nn.functional.gelu(model.ending(feat + model.feature_skip(stem)))[:, :, :20, :28]
        without = nn.functional.gelu(model.ending(feat))[:, :, :20, :28]
    assert y.shape == (1, 3, 20, 28)
    assert torch.allclose(y, with_skip, atol=1e-6) and not torch.allclose(y, without, atol=1e-3)


def _decoded(model: nn.Module, stem: torch.Tensor) -> torch.Tensor:
    feat, skips = stem, []
    for enc, down in zip(model.encoders, model.downs, strict=True):
        feat = enc(feat)
        skips.append(feat)
        feat = down(feat)
    feat = model.middle_blks(feat)
    for dec, up, merge, skip in zip(model.decoders, model.ups, model.merges, reversed(skips), strict=True):
        feat = dec(merge(up(feat), skip))
    return feat


def test_pad_none_refuses_sizes_that_do_not_divide() -> None:
    model = archc.build(_spec(FORMS["no_pad"])).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 16, 20)).shape == (1, 3, 16, 20)
        with pytest.raises(LoweringError, match="not a multiple of 4"):
            model(torch.rand(1, 3, 18, 20))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_onnx_matches_torch_at_dynamic_sizes(form: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = _spec(FORMS[form], _stages(form))
    model = _randomised(archc.build(text))
    cin = archc.parse(text).in_channels
    export_onnx(model, tmp_path / "m.onnx", in_channels=cin, sample=(32, 32))
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    sizes = [(24, 40), (16, 8)] if form == "no_pad" else [(21, 30), (40, 16)]
    for size in sizes:
        x = torch.rand(1, cin, *size, generator=torch.Generator().manual_seed(size[0]))
        (y,) = sess.run(None, {"image": x.numpy()})
        with torch.no_grad():
            np.testing.assert_allclose(y, model(x).numpy(), atol=1e-4, rtol=0)


@pytest.mark.parametrize(("setting", "kind"), [(s, k) for s in ("down", "up") for k in KINDS[s]])
def test_every_down_and_up_kind_lowers_to_the_conv_its_facts_declare(setting: str, kind: str) -> None:
    """The kernel area and shuffle factor that the MAC count reads off the kind are the lowered conv's."""
    build = macro_ops.down if setting == "down" else macro_ops.up
    module = build({"op": kind, "channels_in": 8, "channels_out": 4, "bias": True, "act": "none"})
    conv = next(m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    facts = KINDS[setting][kind]
    assert conv.kernel_size[0] * conv.kernel_size[1] == facts.kernel
    if setting == "up":
        assert conv.out_channels == 4 * facts.shuffle
