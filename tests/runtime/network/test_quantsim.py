"""Fake quantization in torch against the independent reference it stands in for: ONNX Runtime's
static QDQ graph of the same network, calibrated on the same images."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

import archc
from archc.compiler.layers import SimpleGate
from archc.compiler.onnx_export import to_onnx_model
from archc.compiler.quantize import Calibration, quantize, weight_scales
from archc.compiler.space import SearchSpace
from archc.runtime.data.calibration import calibration_images
from archc.runtime.data.synth import synthesize
from archc.runtime.network.quantsim import fake_quant_act, fake_quant_weight, quantization_aware, simulate

from helpers import SPECS, fixture

SPEC = SPECS / "nafnet_tiny_precision.arch"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    out = tmp_path_factory.mktemp("synth") / "set"
    synthesize(out, images=7, seed=3, crops_per_image=3, test_crops_per_image=2, crop=64)
    return np.concatenate(calibration_images(out, 12, 64)), np.concatenate(calibration_images(out, 6, 64, "test"))


def _net() -> torch.nn.Module:
    model = archc.build(SPEC).eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"))  # type: ignore[arg-type]
    return model


def _snr(got: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(np.abs(ref).max() ** 2 / np.mean((got - ref) ** 2)))


def test_weight_scales_are_the_exported_graphs() -> None:
    model = _net()
    proto, _ = to_onnx_model(model, passes=(), precision="w8a8",
                             calibration=Calibration((np.random.default_rng(0).random((1, 3, 32, 32), np.float32),)))
    exported = weight_scales(proto)
    conv = model.encoders[0][0].conv1  # type: ignore[index]
    w = conv.weight.detach()
    name = next(k for k in exported if k.startswith("encoders.0.0.conv1.weight"))
    np.testing.assert_allclose(exported[name], w.abs().flatten(1).amax(1).numpy() / 127, rtol=1e-6)
    q = fake_quant_weight(w) / torch.from_numpy(exported[name]).view(-1, 1, 1, 1)
    assert torch.allclose(q, q.round(), atol=1e-3) and q.abs().max() <= 127.001


def test_activation_grid() -> None:
    x = torch.linspace(-1, 3, 1001)
    y = fake_quant_act(x, -1.0, 3.0, 255)
    assert len(torch.unique(y)) <= 256 and (y - x).abs().max() <= 4 / 255 / 2 + 1e-6
    assert fake_quant_act(torch.zeros(3), 0.5, 3.0, 255).abs().max() == 0  # zero is exact


def test_a_quantized_slot_rounds_its_simple_gates_product(images: tuple[np.ndarray, np.ndarray]) -> None:
    calib, test = images
    space = SearchSpace.of(archc.parse(SPEC))
    sim = simulate(_net(), space.slots, {"enc1": "w8a8"}, torch.from_numpy(calib))
    gates = [m for m in sim.encoders[0].modules() if isinstance(m, SimpleGate)]  # type: ignore[index]
    assert gates
    seen: list[torch.Tensor] = []
    for gate in gates:  # hooked after the simulation's own: sees what the next op receives
        gate.register_forward_hook(lambda module, args, out: seen.append(out.detach()))
    sim(torch.from_numpy(test))
    for out in seen:  # 8-bit activations: at most 256 values, evenly spaced
        levels = torch.unique(out)
        assert len(levels) <= 256 and len(levels) > 2
        steps = torch.diff(levels)
        assert torch.allclose(steps / steps.min(), (steps / steps.min()).round(), atol=1e-3)


# (precision, slots, largest |SNR(sim) - SNR(ORT)| in dB). Measured: w8a8 within 0.9-1.8 dB; w8a16
# 2.4 dB (two slots) and 7.0 dB (four) optimistic, because ONNX Runtime's QDQ graph also rounds the
# element-wise products and residual sums that the simulation leaves in float (see runtime/network/quantsim.py)
CASES = [("w8a8", ("enc1", "dec1"), 3.0), ("w8a8", ("enc1", "enc2", "dec2", "dec1"), 3.5),
         ("w8a16", ("enc1", "dec1"), 4.0), ("w8a16", ("enc1", "enc2", "dec2", "dec1"), 9.0)]


@pytest.mark.parametrize(("precision", "slots", "tolerance"), CASES)
def test_quantized_slots_track_onnx_runtimes_qdq_graph(images: tuple[np.ndarray, np.ndarray], precision: str,
                                                       slots: tuple[str, ...], tolerance: float) -> None:
    calib, test = images
    space = SearchSpace.of(archc.parse(SPEC))
    ref = _net()(torch.from_numpy(test)).detach().numpy()
    sim = simulate(_net(), space.slots, dict.fromkeys(slots, precision), torch.from_numpy(calib))
    got = sim(torch.from_numpy(test)).detach().numpy()
    # the reference: the float export with only those stages' nodes quantized by ONNX Runtime
    float_proto, _ = to_onnx_model(_net(), passes=())
    prefixes = [f"/{_net().stage_prefix(s)}/" for s in slots]  # type: ignore[operator]
    qdq = quantize(float_proto, precision, Calibration(tuple(c[None] for c in calib)), prefixes)
    onnx_out = ort.InferenceSession(qdq.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"image": test})[0]
    assert np.abs(got - ref).max() > 0 and np.abs(onnx_out - ref).max() > 0
    assert _snr(got, ref) >= _snr(onnx_out, ref) - 1.0  # never more pessimistic than the exported graph
    assert abs(_snr(got, ref) - _snr(onnx_out, ref)) <= tolerance


def test_fp16_slots_are_nearly_exact(images: tuple[np.ndarray, np.ndarray]) -> None:
    _, test = images
    space = SearchSpace.of(archc.parse(SPEC))
    ref = _net()(torch.from_numpy(test)).detach().numpy()
    sim = simulate(_net(), space.slots, {s.name: "fp16" for s in space.slots}, None)
    assert _snr(sim(torch.from_numpy(test)).detach().numpy(), ref) > 60


def test_quantization_aware_training_rounds_as_the_simulation_and_passes_gradients(
    images: tuple[np.ndarray, np.ndarray],
) -> None:
    calib, test = (torch.from_numpy(a) for a in images)
    space = SearchSpace.of(archc.parse(SPEC))
    chosen = {"enc1": "w8a8", "enc2": "fp16", "dec1": "w8a16"}
    simulated = simulate(_net(), space.slots, chosen, calib)(test)
    model = _net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with quantization_aware(model, space.slots, chosen, calib) as training:
        out = training(test)
        torch.testing.assert_close(out, simulated.detach(), rtol=0, atol=1e-5)  # the same rounding
        out.square().mean().backward()
        for slot in ("enc1", "enc2", "dec1"):
            convs = [m for m in model.stage_module(slot).modules() if isinstance(m, torch.nn.Conv2d)]  # type: ignore[operator]
            grads = [c.parametrizations.weight.original.grad for c in convs]  # type: ignore[union-attr]
            assert convs and all(g is not None and g.abs().sum() > 0 for g in grads), slot
    # left: plain float weights under their own names, no hooks, the float network's output
    assert model.state_dict().keys() == before.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    torch.testing.assert_close(model(test), _net()(test), rtol=0, atol=0)
