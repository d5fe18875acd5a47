"""Phone formats: every shipped tiny family exported as `.pte` (ExecuTorch + XNNPACK) and `.tflite`
(LiteRT), loaded and run by its own runtime, against the torch module; INT8 through each runtime's
own quantizer, scored against the float network; and the errors without a runtime.

The runtime tests need the extras (`pip install 'archc[executorch]'`, `'archc[litert]'`) and are
skipped, with that reason, without them. Each conversion takes tens of seconds, so every network is
converted once per module and run at several sizes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import archc
from archc.compiler.mobile import (
    available,
    check_request,
    install_command,
    parse_formats,
    refused_op,
    require,
)
from archc.errors import ExportError, MissingRuntimeError, UnsupportedOpError

from helpers import SPECS, fixture

FAMILIES = ("nafnet_tiny", "baseline_tiny", "restormer_tiny")
SIZES = ((64, 64), (48, 80))  # the traced size, then another multiple of 16
TOLERANCE = 1e-4


def _runtime(fmt: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not available(fmt), reason=f"needs the {fmt} runtime: {install_command(fmt)}")


def _randomised(name: str) -> torch.nn.Module:
    """The spec's network with every weight moved off its initial value (residual scales start at 0,
    which would make most blocks identities)."""
    model = archc.build(SPECS / f"{name}.arch").eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    return model


def _runner(fmt: str, path: Path):  # type: ignore[no-untyped-def]
    from archc.compiler.pte_export import PteRunner
    from archc.compiler.tflite_export import TfliteRunner

    return {"pte": PteRunner, "tflite": TfliteRunner}[fmt](path.read_bytes())


def test_formats_parse_in_order_without_repeats() -> None:
    assert parse_formats("onnx,pte,tflite") == ("onnx", "pte", "tflite")
    assert parse_formats(["tflite", "onnx,tflite"]) == ("tflite", "onnx")


def test_unknown_format_suggests_the_near_one() -> None:
    with pytest.raises(ExportError, match="unknown export format `tflight`") as err:
        parse_formats("onnx,tflight")
    assert "tflite" in (err.value.diagnostics[0].help or "")


@pytest.mark.parametrize("fmt", ["pte", "tflite"])
def test_missing_runtime_is_one_error_with_the_install_command(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    from archc.compiler import mobile

    extra = mobile.RUNTIMES[fmt][1]
    monkeypatch.setitem(mobile.RUNTIMES, fmt, ("archc_not_an_installed_module", extra))
    with pytest.raises(MissingRuntimeError) as err:
        require(fmt)
    assert err.value.diagnostics[0].help == f"install it with `pip install 'archc[{extra}]'`"


def test_precisions_a_phone_runtime_lacks_are_refused_before_any_work() -> None:
    for precision, method, match in (
        ("fp16", "minmax", "no `fp16`"),
        ("w8a16", "minmax", "no `w8a16`"),
        ("int8", "entropy", "min/max"),
    ):
        with pytest.raises(ExportError, match=match):
            check_request("tflite" if available("tflite") else "pte", precision, method)


@pytest.mark.skipif(not available("tflite"), reason=f"needs {install_command('tflite')}")
def test_a_dynamic_tflite_is_refused_with_the_reason() -> None:
    from archc.compiler.tflite_export import to_tflite

    with pytest.raises(ExportError, match="fixed input size.*PixelShuffle"):
        to_tflite(_randomised("nafnet_tiny"), dynamic=True)


def test_a_refused_op_is_named() -> None:
    exc = RuntimeError("failed to legalize operation 'tfl.some_op'\nmore")
    err = refused_op("tflite", exc)
    assert isinstance(err, UnsupportedOpError) and "`tfl.some_op`" in str(err)
    err = refused_op("pte", RuntimeError("Missing out variants: {'aten::_fancy_kernel'}"))
    assert isinstance(err, UnsupportedOpError) and "`aten::_fancy_kernel`" in str(err)
    assert not isinstance(refused_op("pte", RuntimeError("out of memory")), UnsupportedOpError)


@pytest.fixture(scope="module", params=[pytest.param(f, marks=_runtime(f)) for f in ("pte", "tflite")])
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("name", FAMILIES)
def test_float_export_runs_in_its_runtime_like_torch(tmp_path: Path, fmt: str, name: str) -> None:
    from archc.compiler.mobile import write

    model = _randomised(name)
    report = write(fmt, model, tmp_path / f"{name}.{fmt}", 3, SIZES[0])
    assert report.max_abs_diff is not None and report.max_abs_diff < TOLERANCE
    # the .pte has a dynamic height and width; the .tflite a fixed size (litert-torch cannot lower PixelShuffle)
    assert report.input.startswith("1x3xHxW, H and W multiples of" if fmt == "pte" else "fixed 1x3x64x64")
    run = _runner(fmt, tmp_path / f"{name}.{fmt}")
    for size in SIZES if fmt == "pte" else SIZES[:1]:
        x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(size[1]))
        with torch.no_grad():
            ref = model(x).numpy()
        got = run.run(x.numpy())
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() < TOLERANCE, (name, size)


def _psnr(got: np.ndarray, sharp: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.clip(got, 0, 1) - sharp) ** 2)))


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from archc.runtime.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth") / "set"
    synthesize(out, images=7, seed=3, crops_per_image=3, test_crops_per_image=2, crop=64)
    return out


def test_int8_through_the_runtimes_quantizer_keeps_the_float_psnr(tmp_path: Path, fmt: str, synth_set: Path) -> None:
    """The trained tiny NAFNet, quantized by the runtime's own PT2E quantizer on the QDQ export's
    calibration crops, scores within 0.1 dB of the float torch network on held-out crops."""
    from archc.compiler.mobile import write
    from archc.runtime.data.calibration import calibration
    from archc.runtime.data.crops import ValCrops
    from archc.runtime.data.datasets import open_dataset

    model = archc.build(SPECS / "nafnet_tiny.arch").eval()
    model.load_state_dict(fixture("tiny_strong_state.pt"), strict=True)  # type: ignore[arg-type]
    calib = calibration(synth_set, "minmax", images=12, crop=64)
    report = write(fmt, model, tmp_path / f"q.{fmt}", 3, (64, 64), "int8", calib)
    assert report.precision == "w8a8" and report.input.startswith("fixed 1x3x64x64")
    run = _runner(fmt, tmp_path / f"q.{fmt}")
    view = ValCrops(open_dataset(synth_set, split="test"), 64)
    float_psnr, int8_psnr = [], []
    for i in range(len(view)):
        _, blur, sharp = view[i]
        with torch.no_grad():
            ref = model(blur[None]).numpy()[0]
        float_psnr.append(_psnr(ref, sharp.numpy()))
        int8_psnr.append(_psnr(run.run(blur[None].numpy())[0], sharp.numpy()))
    assert abs(np.mean(int8_psnr) - np.mean(float_psnr)) < 0.1, (np.mean(int8_psnr), np.mean(float_psnr))
