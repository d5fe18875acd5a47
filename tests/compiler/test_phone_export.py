"""Phone formats: networks exported as `.pte` (ExecuTorch + XNNPACK) and `.tflite` (LiteRT), loaded and
run by their own runtime, against the torch module; INT8 through each runtime's own quantizer, scored
against the float network; and the errors without a runtime.

The runtime tests need the extras (`pip install 'archc[executorch]'`, `'archc[litert]'`) and are
skipped, with that reason, without them. A conversion costs seconds of fixed work plus seconds per
block (a tiny spec: 20 s to 90 s on one core), so the suite converts one small network that holds
the blocks and samplings of all three families, once per runtime. The shipped tiny specs themselves,
and INT8 of the trained tiny NAFNet, are converted by the tests marked `phone_families`, which run
with `pytest --phone-families`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import archc
from archc.compiler.frontend import parse
from archc.compiler.mobile import (
    MobileReport,
    available,
    check_request,
    install_command,
    parse_formats,
    refused_op,
    require,
    write,
)
from archc.errors import ExportError, MissingRuntimeError, UnsupportedOpError

from helpers import SPECS, fixture

FAMILIES = ("nafnet_tiny", "baseline_tiny", "restormer_tiny")
TOLERANCE = 1e-4
# The blocks of the three shipped families in one one-level U-Net (NAFNet's LayerNorm2d, SimpleGate
# and simplified channel attention; NAFNet-Baseline's GELU and channel attention; Restormer's
# transposed attention and gated feed-forward), with Restormer's pixel-unshuffle / pixel-shuffle
# sampling and concatenating skip (the tiny NAFNets' pixel-shuffle up-sampling among them).
FAMILY_BLOCKS = """
arch family_blocks {
    channels in 3 out 3
    width 8
    down conv3x3_unshuffle
    up conv3x3_shuffle
    skip concat_reduce
    encoder e1: naf
    middle m: baseline(dw_expand=2)
    decoder d1: restormer
}
"""
# Restormer's attention reshapes its `c x hw` product back to `c x h x w`: two symbolic sizes, which
# XNNPACK's static reshape cannot take, so that view (and the two size reads) run outside XNNPACK
OUTSIDE_XNNPACK = {"aten.view_copy.default": 1, "sym_size.int": 2}
TRACED, OTHER = (32, 32), (24, 40)  # the traced size, then another the .pte takes (multiples of 2)


def _runtime(fmt: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not available(fmt), reason=f"needs the {fmt} runtime: {install_command(fmt)}")


def _randomised(spec: str | Path) -> torch.nn.Module:
    """The spec's network with every weight moved off its initial value (residual scales start at 0,
    which would make most blocks identities)."""
    model = archc.build(parse(spec) if isinstance(spec, str) else spec).eval()
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


@pytest.mark.parametrize("fmt", ["tflite", "pte"])
def test_precisions_a_phone_runtime_lacks_are_refused_before_any_work(fmt: str) -> None:
    # installed or not: a precision the format lacks is refused before its runtime is looked for
    for precision, method, match in (
        ("fp16", "minmax", "no `fp16`"),
        ("w8a16", "minmax", "no `w8a16`"),
        ("int8", "entropy", "min/max"),
    ):
        with pytest.raises(ExportError, match=match):
            check_request(fmt, precision, method)


@pytest.mark.skipif(not available("tflite"), reason=f"needs {install_command('tflite')}")
def test_a_dynamic_tflite_is_refused_with_the_reason() -> None:
    from archc.compiler.tflite_export import to_tflite

    with pytest.raises(ExportError, match="fixed input size.*PixelShuffle"):
        to_tflite(_randomised(SPECS / "nafnet_tiny.arch"), dynamic=True)


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


@pytest.fixture(scope="module")
def family_blocks(fmt: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path, MobileReport]:
    """FAMILY_BLOCKS with moved weights, written once per runtime in float32 at TRACED."""
    model = _randomised(FAMILY_BLOCKS)
    path = tmp_path_factory.mktemp("phone") / f"family_blocks.{fmt}"
    return model, path, write(fmt, model, path, 3, TRACED)


def _like_torch(model: torch.nn.Module, fmt: str, path: Path, sizes: tuple[tuple[int, int], ...]) -> None:
    run = _runner(fmt, path)
    for size in sizes:
        x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(size[1]))
        with torch.no_grad():
            ref = model(x).numpy()
        got = run.run(x.numpy())
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() < TOLERANCE, (path.name, size)


def test_float_export_runs_in_its_runtime_like_torch(
    fmt: str, family_blocks: tuple[torch.nn.Module, Path, MobileReport]
) -> None:
    model, path, report = family_blocks
    assert report.max_abs_diff is not None and report.max_abs_diff < TOLERANCE
    # the .pte has a dynamic height and width; the .tflite a fixed size (litert-torch cannot lower PixelShuffle)
    assert report.input.startswith("1x3xHxW, H and W multiples of 2" if fmt == "pte" else "fixed 1x3x32x32")
    if fmt == "pte":  # in XNNPACK's forms (compiler/xnnpack_forms.py) all is delegated but one reshape
        assert report.extra == {"xnnpack_pieces": 2, "outside_xnnpack": OUTSIDE_XNNPACK}
        assert report.line().endswith("left outside XNNPACK: aten.view_copy.default x1, sym_size.int x2")
    _like_torch(model, fmt, path, (TRACED, OTHER) if fmt == "pte" else (TRACED,))


@pytest.mark.phone_families
@pytest.mark.parametrize("name", FAMILIES)
def test_every_tiny_family_runs_in_its_runtime_like_torch(tmp_path: Path, fmt: str, name: str) -> None:
    model = _randomised(SPECS / f"{name}.arch")
    report = write(fmt, model, tmp_path / f"{name}.{fmt}", 3, (64, 64))
    assert report.max_abs_diff is not None and report.max_abs_diff < TOLERANCE, (name, report.max_abs_diff)
    _like_torch(model, fmt, tmp_path / f"{name}.{fmt}", ((64, 64), (48, 80)) if fmt == "pte" else ((64, 64),))


def _psnr(got: np.ndarray, sharp: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.clip(got, 0, 1) - sharp) ** 2)))


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from archc.runtime.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth") / "set"
    synthesize(out, images=7, seed=3, crops_per_image=3, test_crops_per_image=2, crop=64)
    return out


@pytest.mark.phone_families
def test_int8_through_the_runtimes_quantizer_keeps_the_float_psnr(tmp_path: Path, fmt: str, synth_set: Path) -> None:
    """The trained tiny NAFNet, quantized by the runtime's own PT2E quantizer on the QDQ export's
    calibration crops, scores within 0.1 dB of the float torch network on held-out crops."""
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
