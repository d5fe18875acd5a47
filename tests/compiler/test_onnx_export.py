from __future__ import annotations

import contextlib

import numpy as np
import onnx
import onnxruntime as ort
import torch

import archc
from archc.compiler.onnx_export import export_onnx

from helpers import SPECS, fixture


def _run(path: str, x: torch.Tensor) -> np.ndarray:
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"image": x.numpy()})[0]  # type: ignore[no-any-return]


def test_official_weights_export_matches_official_output(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = archc.build(SPECS / "nafnet_tiny.arch").eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"), strict=True)  # type: ignore[arg-type]
    report = export_onnx(model, tmp_path / "tiny.onnx")
    proto = onnx.load(str(tmp_path / "tiny.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    assert report.opset >= 17 and proto.opset_import[0].version >= 17
    assert report.simplified and report.nodes <= report.nodes_before_simplify
    y = _run(str(tmp_path / "tiny.onnx"), fixture("tiny_input.pt"))  # type: ignore[arg-type]
    assert np.abs(y - fixture("tiny_strong_output.pt").numpy()).max() <= 1e-4  # type: ignore[attr-defined]


def test_dynamic_size_and_choice_match_torch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = archc.parse(SPECS / "nafnet_tiny.arch")
    model = archc.build(spec, "enc1=dsconv;dec2=identity").eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    export_onnx(model, tmp_path / "m.onnx")
    for size in [(37, 45), (64, 80), (17, 100)]:
        x = torch.rand(2, 3, *size, generator=gen)
        with torch.no_grad():
            ref = model(x).numpy()
        assert np.abs(_run(str(tmp_path / "m.onnx"), x) - ref).max() <= 1e-4, size


def test_no_half_written_file_on_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    class Bad(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.from_numpy(x.numpy())  # not traceable into ONNX

    with contextlib.suppress(archc.ArchError):
        export_onnx(Bad(), tmp_path / "bad.onnx")
    assert list(tmp_path.iterdir()) in ([], [tmp_path / "bad.onnx"])
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
