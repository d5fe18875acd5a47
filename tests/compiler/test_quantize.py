"""Static QDQ export (w8a8 / w8a16): runs in ONNX Runtime, stays close to the float network on real
(synthetic-blur) images, quantizes weights per output channel and activations to 8 or 16 bits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import archc
from archc.compiler.onnx_export import to_onnx_model
from archc.compiler.passes import passes_for
from archc.compiler.quantize import Calibration, activation_types, weight_scales
from archc.runtime.data.calibration import calibration, calibration_images
from archc.runtime.data.synth import synthesize

from helpers import SPECS, fixture

# Lower bounds on the PSNR of the quantized output against the float output, with the float output's
# peak |value| as the peak (the fixture network's weights are random, so its output is no image in
# [0, 1]); measured 32.6-34.9 dB (w8a8) and 44.2-46.0 dB (w8a16) on the held-out images: 16-bit
# activations leave mostly the 8-bit weights' error.
MIN_PSNR = {"w8a8": 30.0, "w8a16": 40.0}


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "set"
    # four training photographs: ranges calibrated on crops of one photograph clip the others' activations
    synthesize(out, images=7, seed=3, crops_per_image=3, test_crops_per_image=2, crop=64)
    return out


@pytest.fixture(scope="module")
def tiny_strong() -> torch.nn.Module:
    model = archc.build(SPECS / "nafnet_tiny.arch").eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"), strict=True)  # type: ignore[arg-type]
    return model


def _run(proto: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"image": x})[0]  # type: ignore[no-any-return]


def _peak_psnr(got: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(np.abs(ref).max() ** 2 / np.mean((got - ref) ** 2)))


@pytest.mark.parametrize("precision", ["w8a8", "w8a16"])
def test_qdq_close_to_float_on_held_out_images(tiny_strong: torch.nn.Module, synth_set: Path,
                                                precision: str) -> None:
    float_proto, _ = to_onnx_model(tiny_strong, passes=passes_for(2))
    proto, _ = to_onnx_model(tiny_strong, passes=passes_for(2), precision=precision,
                             calibration=calibration(synth_set, "minmax", images=12, crop=64))
    test = calibration_images(synth_set, images=6, crop=64, split="test")  # not the calibration images
    scores = [_peak_psnr(_run(proto, x), _run(float_proto, x)) for x in test]
    assert len(test) == 6 and min(scores) >= MIN_PSNR[precision], scores
    assert max(scores) < 80  # it did quantize


def test_weights_per_channel_int8_and_activation_bits(tiny_strong: torch.nn.Module, synth_set: Path) -> None:
    calib = calibration(synth_set, "percentile", images=2, crop=64)
    w8a8, _ = to_onnx_model(tiny_strong, passes=passes_for(2), precision="int8", calibration=calib)
    w8a16, _ = to_onnx_model(tiny_strong, passes=passes_for(2), precision="w8a16", calibration=calib)
    convs = {n.input[1] for n in onnx.shape_inference.infer_shapes(w8a8).graph.node if n.op_type == "Conv"}
    scales = weight_scales(w8a8)
    assert len(scales) == len(convs) > 50
    weights = {i.name: i for i in w8a8.graph.initializer}
    for name, s in scales.items():
        assert s.shape == (weights[name].dims[0],)  # one scale per output channel
        assert weights[name].data_type == onnx.TensorProto.INT8
    assert any(len(np.unique(s)) > 1 for s in scales.values())
    assert activation_types(w8a8) == {onnx.TensorProto.UINT8}
    assert activation_types(w8a16) == {onnx.TensorProto.UINT16}
    assert {o.version for o in w8a16.opset_import if o.domain in ("", "ai.onnx")} == {21}


@pytest.mark.parametrize("method", ["minmax", "percentile", "entropy"])
def test_every_calibration_method_runs(tiny_strong: torch.nn.Module, synth_set: Path, method: str) -> None:
    proto, _ = to_onnx_model(tiny_strong, passes=passes_for(2), precision="w8a8",
                             calibration=calibration(synth_set, method, images=2, crop=64))
    x = fixture("tiny_input.pt").numpy()  # type: ignore[attr-defined]
    assert np.isfinite(_run(proto, x)).all()


def test_quantized_without_calibration_or_with_a_bad_method(tiny_strong: torch.nn.Module) -> None:
    with pytest.raises(archc.ArchError, match="needs calibration images"):
        to_onnx_model(tiny_strong, passes=(), precision="int8")
    with pytest.raises(archc.ArchError, match="unknown calibration method `entrpy`"):
        Calibration((np.zeros((1, 3, 8, 8), np.float32),), "entrpy")
    with pytest.raises(archc.ArchError, match="no calibration images"):
        to_onnx_model(tiny_strong, passes=(), precision="w8a16", calibration=Calibration(()))


def test_quantizing_a_graph_without_weights_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # an identity block's QDQ graph: ONNX Runtime's calibration session warns that it removes an
    # unused initializer. Its log level is process-wide: back to warnings, as in a fresh process,
    # so the warning would reach stderr unless the quantizer keeps it out
    ort.set_default_logger_severity(2)
    images = tuple(np.random.default_rng(0).random((2, 1, 8, 16, 16), dtype=np.float32))
    proto, _ = to_onnx_model(torch.nn.Identity(), 8, (16, 16), precision="w8a8", calibration=Calibration(images))
    assert proto.graph.node
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out[-500:], err[-500:])
