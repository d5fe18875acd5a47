"""The spec-built NAFNet is NAFNet: keys, shapes, parameter counts, outputs (fixtures + reference)."""

from __future__ import annotations

import json

import pytest
import torch

import archc
from archc.compiler.weights import load_state

from helpers import FIXTURES, SPECS, fixture
from reference_nafnet import RefNAFNet, gopro_w32, tiny

REF = json.loads((FIXTURES / "reference.json").read_text())


def _keys_and_shapes(model: torch.nn.Module) -> list[tuple[str, list[int]]]:
    return [(k, list(v.shape)) for k, v in model.state_dict().items()]


def _state_key_list(model_name: str) -> list[tuple[str, list[int]]]:
    return [(k, list(shape)) for k, shape in REF["state_dict_keys"][model_name]]


@pytest.mark.parametrize(("spec", "model"), [("nafnet_gopro.arch", "gopro_width32"), ("nafnet_tiny.arch", "tiny")])
def test_state_dict_keys_and_shapes_are_nafnets(spec: str, model: str) -> None:
    built = archc.build(SPECS / spec)
    assert _keys_and_shapes(built) == _state_key_list(model)


@pytest.mark.parametrize(
    ("spec", "params"),
    [("nafnet_gopro.arch", 17_111_907), ("nafnet_gopro_w64.arch", 67_888_835), ("nafnet_tiny.arch", 321_499)],
)
def test_parameter_counts(spec: str, params: int) -> None:
    with torch.device("meta"):
        model = archc.build(SPECS / spec)
    assert sum(p.numel() for p in model.parameters()) == params


def test_spec_built_equals_independent_reference_after_weight_copy() -> None:
    torch.manual_seed(3)
    ref = tiny().double().eval()
    gen = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.3)
    built = archc.build(SPECS / "nafnet_tiny.arch").double().eval()
    built.load_state_dict(ref.state_dict(), strict=True)
    x = torch.rand(2, 3, 29, 50, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(built(x), ref(x), atol=1e-10, rtol=0)


def test_reference_w32_has_the_same_keys() -> None:
    with torch.device("meta"):
        ref, built = gopro_w32(), archc.build(SPECS / "nafnet_gopro.arch")
    assert _keys_and_shapes(ref) == _keys_and_shapes(built)


@pytest.mark.parametrize(("state", "out", "atol"), [
    ("tiny_state", "tiny_output", 1e-5), ("tiny_strong_state", "tiny_strong_output", 1e-4),
])
def test_official_fixtures_float32(state: str, out: str, atol: float) -> None:
    model = archc.build(SPECS / "nafnet_tiny.arch").eval()
    model.load_state_dict(fixture(f"{state}.pt"), strict=True)  # type: ignore[arg-type]
    with torch.no_grad():
        y = model(fixture("tiny_input.pt"))  # type: ignore[arg-type]
    assert y.shape == (1, 3, 37, 45)
    assert (y - fixture(f"{out}.pt")).abs().max() <= atol  # type: ignore[operator]


@pytest.mark.parametrize("name", ["tiny", "tiny_strong"])
def test_official_fixtures_float64(name: str) -> None:
    model = archc.build(SPECS / "nafnet_tiny.arch").double().eval()
    state = {k: v.double() for k, v in fixture(f"{name}_state.pt").items()}  # type: ignore[attr-defined]
    model.load_state_dict(state, strict=True)
    with torch.no_grad():
        y = model(fixture("tiny_input.pt").double())  # type: ignore[attr-defined]
    assert (y - fixture(f"{name}_output_f64.pt")).abs().max() <= 1e-8  # type: ignore[operator]


def test_intermediates_match_per_stage() -> None:
    model = archc.build(SPECS / "nafnet_tiny.arch").eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"), strict=True)  # type: ignore[arg-type]
    expected = fixture("tiny_strong_intermediates.pt")
    seen: dict[str, torch.Tensor] = {}
    hooks = [model.get_submodule(name).register_forward_hook(
        lambda m, i, o, name=name: seen.__setitem__(name, o)) for name in expected]  # type: ignore[attr-defined]
    with torch.no_grad():
        model(fixture("tiny_input.pt"))  # type: ignore[arg-type]
    for h in hooks:
        h.remove()
    for name, tensor in expected.items():  # type: ignore[attr-defined]
        assert torch.allclose(seen[name], tensor, atol=1e-4, rtol=1e-5), name


def test_official_checkpoint_format_loads_strict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = fixture("tiny_strong_state.pt")
    ckpt = tmp_path / "NAFNet-tiny.pth"
    torch.save({"params": {f"module.{k}": v for k, v in state.items()}}, ckpt)  # type: ignore[attr-defined]
    model = archc.build(SPECS / "nafnet_tiny.arch", weights=ckpt).eval()
    with torch.no_grad():
        y = model(fixture("tiny_input.pt"))  # type: ignore[arg-type]
    assert (y - fixture("tiny_strong_output.pt")).abs().max() <= 1e-4  # type: ignore[operator]
    assert set(load_state(ckpt)) == set(state)  # type: ignore[arg-type]


def test_checkpoint_for_another_network_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ckpt = tmp_path / "w.pth"
    torch.save({"params": RefNAFNet(8, [1], 1, [1]).state_dict()}, ckpt)
    with pytest.raises(archc.ArchError, match="do not fit this network"):
        archc.build(SPECS / "nafnet_tiny.arch", weights=ckpt)


def test_pickled_code_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ckpt = tmp_path / "evil.pth"
    torch.save({"params": {"x": torch.zeros(1)}, "obj": object()}, ckpt)
    with pytest.raises(archc.ArchError, match="cannot read"):
        archc.build(SPECS / "nafnet_tiny.arch", weights=ckpt)


def test_choice_replaces_only_its_slot() -> None:
    base = archc.build(SPECS / "nafnet_tiny.arch")
    chosen = archc.build(SPECS / "nafnet_tiny.arch", choice="enc1=dsconv;dec1=identity")
    base_keys, chosen_keys = set(base.state_dict()), set(chosen.state_dict())
    changed = {k.split(".")[0] + "." + k.split(".")[1] for k in base_keys ^ chosen_keys}
    assert changed == {"encoders.0", "decoders.3"}
    assert any(k.startswith("encoders.0.0.dw.") for k in chosen_keys)


def test_slice_slots_replace_a_range_of_blocks() -> None:
    text = (SPECS / "nafnet_gopro.arch").read_text().replace(
        "exclude enc4", "slots enc1, enc4[0:14], enc4[14:28]")
    spec = archc.parse(text)
    model = archc.build(spec, choice="enc4[0:14]=identity")
    enc4 = model.encoders[3]
    assert len(enc4) == 28
    assert all(isinstance(b, torch.nn.Identity) for b in enc4[:14])
    assert not any(isinstance(b, torch.nn.Identity) for b in enc4[14:])


def test_choice_errors() -> None:
    spec = archc.parse(SPECS / "nafnet_gopro.arch")
    with pytest.raises(archc.ArchError, match="not a candidate"):
        archc.build(spec, choice="enc1=mbconv(expand=2)")
    with pytest.raises(archc.ArchError, match="excluded"):
        archc.build(spec, choice="enc4=identity")
    with pytest.raises(archc.ArchError) as err:
        archc.build(spec, choice="enc_1=identity")
    assert "did you mean `enc1`?" in err.value.render()
