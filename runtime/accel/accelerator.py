"""Where torch work runs: one name (`auto`, `cpu`, `cuda`, `cuda:N`, `mps`) resolved to a
`torch.device`, and a description of it for run records.

`auto` is the first CUDA device when torch sees one, else the CPU (never MPS: its kernels do not
all match the CPU's yet, so it is used only when asked for). Asking for an accelerator this machine
lacks is an AcceleratorError that names what was found; it never falls back silently.
"""

from __future__ import annotations

import os
import re

import torch

from archc.errors import AcceleratorError

NAMES = "auto, cpu, cuda, cuda:N, mps"
_CUDA = re.compile(r"cuda(?::(\d+))?")



def gpu_count() -> int:
    """How many CUDA devices torch sees (0 without CUDA)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available() -> list[str]:
    """Every accelerator name this machine can run on: `cpu`, then `cuda:0` ..., then `mps`."""
    names = ["cpu"] + [f"cuda:{i}" for i in range(gpu_count())]
    return names + (["mps"] if _mps_available() else [])


def _found() -> str:
    return "found: " + ", ".join(available())


def _no_cuda_reason() -> str:
    if torch.version.cuda is None:
        return f"torch {torch.__version__} has no CUDA"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    where = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA device{where}"


def _resolve_cuda(name: str, index: int | None) -> torch.device:
    count = gpu_count()
    if count == 0:
        raise AcceleratorError(
            f"CUDA was asked for but {_no_cuda_reason()}; {_found()}",
            code="E1502",
            help="use --accelerator cpu (or auto), or run on a machine with an NVIDIA GPU",
        )
    if index is not None and index >= count:
        raise AcceleratorError(
            f"`{name}` was asked for but this machine has {count} CUDA device(s); {_found()}",
            code="E1503",
            help=f"pick one of cuda:0 .. cuda:{count - 1}",
        )
    return torch.device("cuda", index if index is not None else 0)


def _resolve_mps() -> torch.device:
    if not _mps_available():
        raise AcceleratorError(
            f"MPS was asked for but torch {torch.__version__} cannot use it here; {_found()}",
            code="E1504",
            help="MPS needs Apple silicon and a macOS build of torch; use cpu",
        )
    return torch.device("mps")


def check_name(name: str) -> str:
    """`name` normalised when it is an accelerator name, whether or not this machine has it (for
    work that runs elsewhere, e.g. on a cluster's workers); raises AcceleratorError (E1501)."""
    key = name.strip().lower()
    if key in ("auto", "cpu", "mps") or _CUDA.fullmatch(key):
        return key
    raise AcceleratorError(f"unknown accelerator `{name}`", code="E1501", help=f"the accelerators are {NAMES}")


def resolve(name: str = "auto") -> torch.device:
    """The `torch.device` of an accelerator name.

    Raises AcceleratorError (E1501 unknown name, E1502 no CUDA, E1503 no such CUDA index, E1504 no
    MPS) with the accelerators this machine has.
    """
    key = name.strip().lower()
    if key == "auto":
        return torch.device("cuda", 0) if gpu_count() else torch.device("cpu")
    if key == "cpu":
        return torch.device("cpu")
    if key == "mps":
        return _resolve_mps()
    match = _CUDA.fullmatch(check_name(name))
    assert match is not None  # check_name let only cuda names through to here
    return _resolve_cuda(name, int(match.group(1)) if match.group(1) is not None else None)


def resolve_here(name: str) -> torch.device:
    """`resolve(name)` when this machine has that accelerator, else the CPU (for work that may run
    here or on a cluster's workers, such as a reference score computed on the driver)."""
    try:
        return resolve(name)
    except AcceleratorError:
        return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """A human name for `device`: the GPU's model for CUDA, the processor's model for the CPU."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return cpu_model()


INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")
SIMD_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def int8_instructions() -> dict[str, object]:
    """Which integer dot-product instructions this processor has (VNNI speeds up ONNX Runtime's
    8-bit kernels); from /proc/cpuinfo, empty where there is none."""
    found = cpu_flags(INT8_FLAGS)
    return {"cpu": cpu_model(), "vnni": any("vnni" in f for f in found), "int8_flags": found}


def cpu_flags(wanted: tuple[str, ...] = SIMD_FLAGS) -> list[str]:
    """Those of `wanted` this processor has (from /proc/cpuinfo; none where there is none), in
    `wanted`'s order: the instruction sets every speed figure is reported beside."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            present = set(f.read().split())
    except OSError:
        present = set()
    return [f for f in wanted if f in present]


def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "cpu"


def describe(device: torch.device | str, amp: str = "off") -> dict[str, str]:
    """What a run records about where it ran: {"accelerator", "accelerator_name", "amp"}."""
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return {"accelerator": str(dev), "accelerator_name": device_name(dev), "amp": amp}


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels on `device` (a no-op on the CPU); needed before timing GPU work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
