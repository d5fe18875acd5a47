"""The spec-built Restormer is Restormer: official fixtures (float32 and float64, bare and `params`
checkpoints, loaded strictly through the declared `checkpoint restormer` layout), parameter counts of
the official configurations, an independent Restormer written from the facts (tests/reference_restormer.py),
ONNX with dynamic H and W, save and reload, and restormer blocks in NAFNet slots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from click.testing import CliRunner

import archc
from archc.cli import cli
from archc.compiler.emit_arch import arch_text
from archc.compiler.onnx_export import export_onnx
from archc.compiler.weights import save_safetensors
from archc.errors import WeightsError
from archc.runtime.blocks.restormer import TransformerBlock

from helpers import SPECS, FamilyFixture
from reference_restormer import RefRestormer, RefTransformerBlock

FIX = FamilyFixture("restormer_tiny")
REF = FIX.ref
TINY = SPECS / "restormer_tiny.arch"


def _official_file(tmp_path: Path, wrap: bool = False) -> Path:
    path = tmp_path / "restormer_tiny.pth"
    torch.save({"params": FIX.state()} if wrap else FIX.state(), path)
    return path


def _randomise(model: torch.nn.Module, seed: int) -> None:
    """`v + 0.2 N(0, 1) std(v)` (std 1 for constant tensors), as the fixtures were made: wrong wiring
    shows, and activations stay in range."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            std = p.std() if p.numel() > 1 and p.std() > 0 else torch.ones((), dtype=p.dtype)
            p.copy_(p + 0.2 * std * torch.randn(p.shape, generator=gen, dtype=p.dtype))


@pytest.mark.parametrize(
    ("spec", "params"),
    [
        ("restormer_tiny.arch", 262_301),
        ("restormer_deblur.arch", 26_126_644),
        ("restormer_denoise.arch", 26_111_668),
        ("restormer_dualpixel.arch", 26_132_548),
    ],
)
def test_parameter_counts(spec: str, params: int) -> None:
    with torch.device("meta"):
        model = archc.build(SPECS / spec)
    assert sum(p.numel() for p in model.parameters()) == params
    if spec == "restormer_tiny.arch":
        assert params == REF["params"]


def test_tiny_spec_is_the_fixture_configuration() -> None:
    cfg = REF["config"]
    spec = archc.parse(TINY)
    assert spec.ops.widths == tuple(cfg["dim"] * 2**i for i in range(4))
    assert [s.repeat for s in spec.by_role("encoder")] + [spec.by_role("middle")[0].repeat] == cfg["num_blocks"]
    assert spec.by_role("refine")[0].repeat == cfg["num_refinement_blocks"]
    heads = [s.block.params.heads for s in (*spec.by_role("encoder"), *spec.by_role("middle"))]
    assert heads == cfg["heads"]
    blocks = [b for s in spec.stages for b in s.blocks()]
    assert {(b.params.ffn, b.params.bias, b.params.norm) for b in blocks} == {(2.66, False, "withbias")}


@pytest.mark.parametrize("wrap", [False, True], ids=["bare", "params"])
def test_official_fixture_float32(tmp_path: Path, wrap: bool) -> None:
    model = archc.build(TINY, weights=_official_file(tmp_path, wrap)).eval()
    with torch.no_grad():
        y = model(FIX.tensor("input"))
    assert y.shape == tuple(REF["input_shape"])
    assert (y - FIX.tensor("output")).abs().max() <= 1e-4


def test_official_fixture_float64(tmp_path: Path) -> None:
    model = archc.build(TINY, weights=_official_file(tmp_path)).double().eval()
    with torch.no_grad():
        y = model(FIX.tensor("input").double())
    assert (y - FIX.tensor("output_f64")).abs().max() <= 1e-8


def test_loading_is_strict(tmp_path: Path) -> None:
    state = FIX.state()
    state.pop("decoder_level1.0.ffn.dwconv.weight")
    state["refinement.0.attn.extra"] = torch.zeros(1)
    torch.save(state, tmp_path / "short.pth")
    with pytest.raises(WeightsError, match=r"missing: decoders\.2\.0\.ffn\.dwconv\.weight.*unexpected"):
        archc.build(TINY, weights=tmp_path / "short.pth")


def test_without_the_layout_an_official_checkpoint_is_refused(tmp_path: Path) -> None:
    text = TINY.read_text().replace("    checkpoint restormer", "    checkpoint archc")
    with pytest.raises(WeightsError, match="do not fit this network"):
        archc.build(text, weights=_official_file(tmp_path))


@pytest.mark.parametrize(
    ("spec", "kwargs"),
    [
        ("restormer_tiny.arch", {}),
        ("restormer_tiny.arch", {"with_bias": False, "norm": "biasfree"}),
        ("restormer_tiny.arch", {"inp": 6, "dual_pixel": True}),
    ],
    ids=["withbias", "biasfree", "dualpixel"],
)
def test_equals_independent_reference(spec: str, kwargs: dict[str, object]) -> None:
    text = (SPECS / spec).read_text()
    norm = kwargs.pop("norm", None)
    if norm:
        text = text.replace("restormer x", f"restormer(norm={norm}) x")
        text = text.replace("restormer\n", f"restormer(norm={norm})\n")
        text = text.replace("=2)", f"=2, norm={norm})").replace("=4)", f"=4, norm={norm})").replace(
            "=8)", f"=8, norm={norm})")
    if kwargs.get("dual_pixel"):
        text = text.replace("channels in 3", "channels in 6").replace("residual global", "residual feature(bias=off)")
    ref = RefRestormer(dim=8, num_blocks=(1, 1, 1, 2), refinement=1, **kwargs).eval()  # type: ignore[arg-type]
    _randomise(ref, 3)  # in float32, so that loading into the float32 network loses nothing
    path = Path(f"/tmp/archc_ref_{spec}_{norm}_{kwargs.get('dual_pixel')}.pth")
    torch.save(ref.state_dict(), path)
    try:
        model = archc.build(text, weights=path).double().eval()
    finally:
        path.unlink()
    ref = ref.double()
    x = torch.rand(2, ref.patch_embed.proj.in_channels, 24, 32, generator=torch.Generator().manual_seed(1),
                   dtype=torch.float64)
    with torch.no_grad():
        assert (model(x) - ref(x)).abs().max() <= 1e-10


@pytest.mark.parametrize(("heads", "ffn", "bias", "norm"), [(1, 2.66, False, "withbias"), (4, 1.5, True, "biasfree")])
def test_block_equals_reference_block(heads: int, ffn: float, bias: bool, norm: str) -> None:
    c = 16
    ref = RefTransformerBlock(c, heads, ffn, bias, norm == "withbias").double().eval()
    _randomise(ref, heads)
    spec = archc.parse_block(f"restormer(heads={heads}, ffn={ffn}, bias={'on' if bias else 'off'}, norm={norm})")
    block = TransformerBlock(c, spec.params).double().eval()
    block.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, c, 9, 14, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    with torch.no_grad():
        assert (block(x) - ref(x)).abs().max() <= 1e-12


def test_onnx_matches_torch_at_dynamic_sizes(tmp_path: Path) -> None:
    model = archc.build(TINY, weights=_official_file(tmp_path)).eval()
    export_onnx(model, tmp_path / "restormer.onnx", sample=(40, 56))
    sess = ort.InferenceSession(str(tmp_path / "restormer.onnx"), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"image": FIX.tensor("input").numpy()})
    assert np.abs(y - FIX.tensor("output").numpy()).max() <= 1e-4
    for size in [(48, 32), (16, 72)]:
        x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(size[0]))
        (y,) = sess.run(None, {"image": x.numpy()})
        with torch.no_grad():
            np.testing.assert_allclose(y, model(x).numpy(), atol=1e-4, rtol=0)


def test_compile_out_writes_an_onnx_that_reproduces_the_fixture(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["compile", str(TINY), "--weights", str(_official_file(tmp_path)),
                                       "--out", str(tmp_path / "out"), "--emit", "onnx"])
    assert result.exit_code == 0, result.output
    sess = ort.InferenceSession(str(tmp_path / "out" / "restormer_tiny.onnx"), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"image": FIX.tensor("input").numpy()})
    assert np.abs(y - FIX.tensor("output").numpy()).max() <= 1e-4


def test_saved_network_reloads_the_same_tensors(tmp_path: Path) -> None:
    """What `archc export` does: the network as a fixed spec plus safetensors, then built again."""
    model = archc.build(TINY, weights=_official_file(tmp_path)).eval()
    text = arch_text(archc.compile_ir(TINY), name="restormer_again")
    save_safetensors(model, tmp_path / "w.safetensors", {"spec": text})
    again = archc.build(text, weights=tmp_path / "w.safetensors").eval()
    mine, theirs = model.state_dict(), again.state_dict()
    assert list(mine) == list(theirs) and all(torch.equal(mine[k], theirs[k]) for k in mine)
    with torch.no_grad():
        assert torch.equal(again(FIX.tensor("input")), model(FIX.tensor("input")))


def test_restormer_blocks_fill_nafnet_slots_of_any_width() -> None:
    text = (SPECS / "nafnet_tiny.arch").read_text().split("# Small enough")[0] + (
        "search over nafnet_tiny {\n    slots enc1, enc3, mid, dec2\n"
        "    candidates *: naf | restormer | restormer(heads=8, ffn=1.5, norm=biasfree) | identity\n}\n"
    )
    choice = "enc1=restormer;enc3=restormer(heads=8, ffn=1.5, norm=biasfree);mid=restormer;dec2=identity"
    model = archc.build(archc.parse(text), choice).eval()
    assert sum(isinstance(m, TransformerBlock) for m in model.modules()) == 3
    x = torch.rand(1, 3, 21, 30)
    with torch.no_grad():
        assert model(x).shape == x.shape


def test_nafnet_blocks_fill_restormer_slots() -> None:
    spec = archc.parse(SPECS / "restormer_deblur.arch")
    small = (SPECS / "restormer_deblur.arch").read_text().replace("widths 48 96 192 384", "widths 8 16 32 64")
    choice = "enc1=naf;dec1=dsconv;refinement=identity;mid=naf(sca=off);enc2=restormer"
    assert spec.search is not None and len(spec.search.slots) == 8
    model = archc.build(small, choice).eval()
    x = torch.rand(1, 3, 16, 24)
    with torch.no_grad():
        assert model(x).shape == x.shape
