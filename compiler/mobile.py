"""What the phone formats share: the format names, the input shapes they are exported at, the error
for a missing runtime package, naming the operation a runtime refused, and the export report.

Formats: `onnx` (`onnx_export.py`), `pte` (ExecuTorch with the XNNPACK backend, `pte_export.py`) and
`tflite` (LiteRT, `tflite_export.py`). Both phone runtimes take `torch.export` programs. The `.pte`
keeps height and width dynamic: `torch.export` needs the dynamic sizes as a multiple of a symbol,
and the network pads its input to a multiple of `2 ** levels` itself, so the file takes any height
and width that is such a multiple (16 for a four-level U-Net), up to `max_size` (ExecuTorch plans
its activation memory for the largest size, so the bound is part of the file). The `.tflite` has a
fixed input size (see `tflite_export.py` for why); every report states which.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import torch
from attrs import frozen
from torch import nn

from archc.diagnostics import quoted_list, unknown_name_help
from archc.dsl.precision import canonical
from archc.errors import ExportError, MissingRuntimeError, UnsupportedOpError

from .files import write_bytes_atomic

if TYPE_CHECKING:
    from .quantize import Calibration

FORMATS = ("onnx", "pte", "tflite")
SUFFIX = {"onnx": ".onnx", "pte": ".pte", "tflite": ".tflite"}
# format -> (importable module that proves the runtime is installed, the extra that installs it)
RUNTIMES = {"pte": ("executorch", "executorch"), "tflite": ("litert_torch", "litert")}
RUNTIME_NAMES = {"pte": "ExecuTorch (XNNPACK)", "tflite": "LiteRT"}
# formats whose files cannot take a dynamic height and width, and why
FIXED_SIZE = {"tflite": "litert-torch cannot lower PixelShuffle at a dynamic height and width"}
PRECISIONS = ("fp32", "w8a8")
MAX_SIZE = 1024
_OP = re.compile(r"\b(aten[.:]{1,2}[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?|(?:tfl|stablehlo|mhlo)\.[a-z_0-9]+)")


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """`onnx,pte` (or a list of such) -> ("onnx", "pte"), in the given order, without repeats."""
    parts = [text] if isinstance(text, str) else list(text)
    names = [n.strip() for p in parts for n in p.split(",") if n.strip()]
    for n in names:
        if n not in FORMATS:
            raise ExportError(
                f"unknown export format `{n}`",
                code="E0618",
                help=unknown_name_help(n, FORMATS, f"choose {quoted_list(FORMATS)}"),
            )
    return tuple(dict.fromkeys(names))


def install_command(fmt: str) -> str:
    return f"pip install 'archc[{RUNTIMES[fmt][1]}]'"


def require(fmt: str) -> None:
    """Raise MissingRuntimeError (with the install command) unless `fmt`'s runtime is importable."""
    module, _ = RUNTIMES[fmt]
    if importlib.util.find_spec(module) is None:
        raise MissingRuntimeError(
            f"writing `.{fmt}` files needs the `{module}` package, which is not installed",
            code="E0620",
            help=f"install it with `{install_command(fmt)}`",
        )


def check_request(fmt: str, precision: str, method: str = "minmax") -> str:
    """Before any work: `fmt` takes `precision` (fp32, or int8 = w8a8 with min/max ranges) and its
    runtime is installed (checked second: a precision the format lacks is not worth installing it
    for); returns the canonical precision."""
    from archc.dsl.precision import canonical

    precision = canonical(precision)
    if precision not in PRECISIONS:
        raise ExportError(
            f"`.{fmt}` files have no `{precision}` precision here",
            code="E0623",
            help=f"use fp32 or int8 (= w8a8) for .{fmt} files; fp16 and w8a16 are ONNX only",
        )
    if precision == "w8a8" and method != "minmax":
        raise ExportError(
            f"the {fmt} quantizer observes min/max ranges, not `{method}`",
            code="E0624",
            help=f"use `--calibration-method minmax` for .{fmt} files",
        )
    require(fmt)
    return precision


def check_formats(formats: Sequence[str], precision: str, method: str = "minmax") -> None:
    """Before any work: every phone format of `formats` has its runtime installed and takes `precision`."""
    for fmt in formats:
        if fmt != "onnx":
            check_request(fmt, precision, method)


def write(
    fmt: str,
    model: nn.Module,
    path: str | Path,
    in_channels: int = 3,
    sample: tuple[int, int] = (64, 64),
    precision: str = "fp32",
    calibration: Calibration | None = None,
) -> MobileReport:
    """Write `model` as a `.pte` or `.tflite` file at `path` (see `pte_export`, `tflite_export`)."""
    from .pte_export import export_pte
    from .tflite_export import export_tflite

    if fmt == "pte":
        return export_pte(model, path, in_channels, sample, precision=precision, calibration=calibration)
    return export_tflite(model, path, in_channels, sample, precision=precision, calibration=calibration)


def available(fmt: str) -> bool:
    return fmt == "onnx" or importlib.util.find_spec(RUNTIMES[fmt][0]) is not None


def prepared(model: nn.Module) -> nn.Module:
    """An eval-mode copy of `model` for a phone runtime: BatchNorm folded, and, since the exported
    sizes are multiples of the padding multiple already, without the input padding (whose
    zero-width pad of a dynamic size LiteRT's converter cannot shape)."""
    from .passes import optimize

    out = optimize(model, ("fold_batchnorm",))
    if hasattr(out, "pad_input"):
        out.pad_input = False  # type: ignore[assignment]
    return out


def multiple_of(model: nn.Module) -> int:
    """The size multiple the network pads its input to (1 when it does not say)."""
    return int(getattr(model, "padder_size", 1))


def sample_input(model: nn.Module, channels: int, sample: tuple[int, int]) -> torch.Tensor:
    """A 1 x channels x H x W input, H and W rounded up to the network's multiple."""
    m = multiple_of(model)
    h, w = (-(-s // m) * m for s in sample)
    return torch.rand(1, channels, h, w, generator=torch.Generator().manual_seed(0))


def dynamic_shapes(model: nn.Module, max_size: int = MAX_SIZE) -> dict[str, dict[int, Any]]:
    """torch.export's dynamic height and width of the network's one input."""
    from torch.export import Dim

    m = multiple_of(model)
    top = max(1, max_size // m)
    name = next(iter(_forward_args(model)), "inp")
    return {name: {2: m * Dim("h_blocks", min=1, max=top), 3: m * Dim("w_blocks", min=1, max=top)}}


def _forward_args(model: nn.Module) -> list[str]:
    import inspect

    return list(inspect.signature(model.forward).parameters)


def shape_text(model: nn.Module, dynamic: bool, fixed: tuple[int, ...], max_size: int = MAX_SIZE) -> str:
    """How the written file's input may be sized, for reports and the command line."""
    if not dynamic:
        return f"fixed {'x'.join(map(str, fixed))}"
    m = multiple_of(model)
    return f"1x{fixed[1]}xHxW, H and W multiples of {m} up to {max_size // m * m}"


def refused_op(fmt: str, exc: BaseException) -> ExportError:
    """The error for a runtime failing on the network: names the operation when the message does."""
    text = f"{type(exc).__name__}: {exc}"
    ops = list(dict.fromkeys(_OP.findall(text)))
    runtime = RUNTIME_NAMES[fmt]
    first_line = text.strip().splitlines()[0][:300]
    if ops:
        return UnsupportedOpError(
            f"{runtime} cannot take `{ops[0]}`: {first_line}",
            code="E0621",
            help="replace the block that uses it (`archc compile SPEC` lists each stage's blocks), or export ONNX only",
        )
    return ExportError(f"{runtime} export failed: {first_line}", code="E0622")


# lower(prepared model, sample input, dynamic, canonical precision, calibration, max size)
#   -> (file bytes, facts about the file for the report's `extra`)
Lower = Callable[[nn.Module, torch.Tensor, bool, str, "Calibration | None", int], tuple[bytes, dict[str, Any]]]
Convert = Callable[..., tuple[bytes, dict[str, Any]]]


def convert(
    fmt: str,
    lower: Lower,
    model: nn.Module,
    in_channels: int,
    sample: tuple[int, int],
    dynamic: bool,
    precision: str,
    calibration: Calibration | None,
    max_size: int,
) -> tuple[bytes, dict[str, Any]]:
    """What every phone format's conversion shares: the request checked (runtime, precision,
    calibration; a dynamic size where the format has none is refused), an eval-mode copy of `model`
    (`prepared`) lowered by `lower` at the sample input, quietly, dynamic only in float32 (PT2E
    graphs keep no dynamic sizes), a failure naming the op the runtime refused. Returns (bytes,
    facts: `input`, `seconds`, `extra`: what `lower` says of the file)."""
    from .quantize import missing_calibration

    precision = check_request(fmt, precision, calibration.method if calibration else "minmax")
    if precision == "w8a8" and calibration is None:
        raise missing_calibration(precision)
    if dynamic and fmt in FIXED_SIZE:
        raise ExportError(
            f"{RUNTIME_NAMES[fmt]} files have a fixed input size: {FIXED_SIZE[fmt]}",
            code="E0625",
            help="export at the size the app runs",
        )
    model = prepared(model)
    x = sample_input(model, in_channels, sample)
    dynamic = dynamic and precision == "fp32"
    t0 = time.perf_counter()
    try:
        with quiet(), torch.no_grad():
            data, extra = lower(model, x, dynamic, precision, calibration, max_size)
    except ExportError:
        raise
    except Exception as exc:  # the exporters, lowerings and converters raise many types
        raise refused_op(fmt, exc) from exc
    facts = {"input": shape_text(model, dynamic, tuple(x.shape), max_size), "seconds": time.perf_counter() - t0}
    return data, {**facts, "extra": extra}


def export_checked(
    fmt: str,
    to_bytes: Convert,
    run: Callable[[bytes, np.ndarray], np.ndarray],
    model: nn.Module,
    path: str | Path,
    in_channels: int,
    sample: tuple[int, int],
    dynamic: bool,
    precision: str,
    calibration: Calibration | None,
    max_size: int,
) -> MobileReport:
    """Convert `model` with `to_bytes`, run a float32 file once in its runtime (`run`) against the
    torch module on the sample input, and write it at `path` (atomically)."""
    data, facts = to_bytes(model, in_channels, sample, dynamic, precision, calibration, max_size)
    x = sample_input(model, in_channels, sample)
    diff = None
    if canonical(precision) == "fp32":
        with torch.no_grad():
            ref = model.eval()(x).numpy()
        diff = float(np.abs(run(data, x.numpy()) - ref).max())
    write_bytes_atomic(path, data)
    return MobileReport(
        str(path),
        fmt,
        RUNTIME_NAMES[fmt],
        canonical(precision),
        facts["input"],
        len(data),
        facts["seconds"],
        diff,
        calibration.source if calibration and precision != "fp32" else "",
        facts.get("extra", {}),
    )


def observed(model: nn.Module, x: torch.Tensor, quantizer: Any, calibration: Calibration) -> nn.Module:
    """`model` exported at `x`, prepared for PT2E with the runtime's `quantizer`, and run on every
    calibration image (fitted to `x`'s size) so its observers hold the activation ranges."""
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e

    graph = torch.export.export(model, (x,)).module()
    out = prepare_pt2e(graph, quantizer)  # type: ignore[arg-type]
    for image in calibration.images:
        out(fit_to(torch.from_numpy(np.asarray(image, dtype=np.float32)), x))
    return out  # type: ignore[no-any-return]


def fit_to(image: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A calibration image at the exported (fixed) size: centre-cropped, or tiled when smaller."""
    h, w = x.shape[-2:]
    image = image.reshape(-1, *image.shape[-3:])[:1]
    reps = (1, 1, -(-h // image.shape[-2]), -(-w // image.shape[-1]))
    image = image.repeat(reps)
    top, left = (image.shape[-2] - h) // 2, (image.shape[-1] - w) // 2
    return image[..., top : top + h, left : left + w].contiguous()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The converters print progress and log warnings per op; an export stays quiet."""
    import warnings

    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


@frozen
class MobileReport:
    """What one `.pte` / `.tflite` export wrote."""

    path: str
    format: str
    runtime: str
    precision: str
    input: str  # e.g. "1x3xHxW, H and W multiples of 16 up to 1024" or "fixed 1x3x256x256"
    bytes: int
    export_seconds: float
    max_abs_diff: float | None = None  # to the torch module on the sample input (float32 only)
    calibration: str = ""
    extra: dict[str, Any] = attrs.field(factory=dict)  # .pte: `xnnpack_pieces`, `outside_xnnpack` (op -> count)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def line(self) -> str:
        diff = "" if self.max_abs_diff is None else f", max |diff| to torch {self.max_abs_diff:.1e}"
        calibrated = f", calibrated on {self.calibration}" if self.calibration else ""
        outside = ", ".join(f"{op} x{n}" for op, n in sorted(self.extra.get("outside_xnnpack", {}).items()))
        outside = f", left outside XNNPACK: {outside}" if outside else ""
        size = f"{self.bytes / 1e6:.2f} MB"
        return f"{self.runtime}, {self.precision}{calibrated}, input {self.input}{diff}, {size}{outside}"
