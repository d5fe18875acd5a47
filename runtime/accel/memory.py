"""Memory checked before it is spent, and out-of-memory errors turned into one clear message.

`check_fits` compares a `compiler.memory.MemoryEstimate` with what the machine (or the GPU) has
free and raises MemoryLimitError when the estimate does not fit. Free memory on the CPU is the
least of /proc/meminfo's MemAvailable, the cgroup's limit less its usage, and the address-space and
data-segment limits (`ulimit -v`, `ulimit -d`) less what the process already maps; on a CUDA
device it is `torch.cuda.mem_get_info`.

Two environment variables change the check: `ARCHC_MEMORY_CHECK=off` skips it, and
`ARCHC_MEMORY_LIMIT=8G` (K, M, G, T; or bytes) takes that as the free memory instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import torch

from archc.compiler.memory import MemoryEstimate, for_weights, inference_bytes_per_pixel, screen_params
from archc.diagnostics import Diagnostic, Span
from archc.dsl.spec import Spec
from archc.errors import MemoryLimitError

CHECK_ENV = "ARCHC_MEMORY_CHECK"
LIMIT_ENV = "ARCHC_MEMORY_LIMIT"
OVERRIDE_HELP = f"{CHECK_ENV}=off skips this check"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}



def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def parse_bytes(text: str) -> int:
    """`8G`, `512M`, `1.5T`, `123456` -> bytes; raises MemoryLimitError (E1523) on anything else."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)I?B?\s*", text.upper())
    if match is None:
        raise MemoryLimitError(
            f"{LIMIT_ENV}={text!r} is not a size", code="E1523", help=f"write e.g. {LIMIT_ENV}=8G (units K, M, G, T)"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def _meminfo(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


_CGROUP_FILES = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # v2, then v1
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


def _cgroup_free() -> int | None:
    for limit, usage in _CGROUP_FILES:
        cap, used = _read_int(limit), _read_int(usage)
        if cap is not None and used is not None and cap < 1 << 60:
            return max(cap - used, 0)
    return None


def _status_bytes(key: str) -> int:
    value = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                value = int(line.split()[1]) * 1024
    return value


def _rlimit_free() -> list[tuple[int, str]]:
    found = []
    for res, key, name in ((resource.RLIMIT_AS, "VmSize", "ulimit -v"), (resource.RLIMIT_DATA, "VmData", "ulimit -d")):
        soft, _ = resource.getrlimit(res)
        if soft != resource.RLIM_INFINITY:
            found.append((max(soft - _status_bytes(key), 0), name))
    return found


def cpu_free() -> tuple[int, str]:
    """(free bytes, where the figure comes from) for this process on the CPU."""
    candidates = [
        (v, name)
        for v, name in ((_meminfo("MemAvailable"), "MemAvailable"), (_cgroup_free(), "the cgroup's memory limit"))
        if v is not None
    ]
    candidates += _rlimit_free()
    if not candidates:
        pages, size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        candidates.append((pages * size, "free physical pages"))
    return min(candidates)


def free_memory(device: torch.device) -> tuple[int, str] | None:
    """(free bytes, source) on `device`, or None where it cannot be known (MPS)."""
    override = os.environ.get(LIMIT_ENV)
    if override:
        return parse_bytes(override), LIMIT_ENV
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free), f"free on {device}"
    if device.type == "cpu":
        return cpu_free()
    return None


def check_enabled() -> bool:
    return os.environ.get(CHECK_ENV, "on").strip().lower() not in ("off", "0", "no", "false")


def _breakdown(est: MemoryEstimate) -> str:
    parts = [(est.weights, "weights"), (est.state, est.state_label), (est.activations, "activations")]
    return ", ".join(f"{name} {human_bytes(v)}" for v, name in parts if v)


def check_fits(
    est: MemoryEstimate,
    device: torch.device,
    *,
    hint: str,
    span: Span | None = None,
    sources: dict[str, str] | None = None,
    resident: int = 0,
) -> None:
    """Raise MemoryLimitError (E1521) when `est` exceeds the free memory of `device`.

    `hint` says what the user can shrink; `span`/`sources` point the message at the spec;
    `resident`: bytes of the estimate already allocated there (weights built in place), which the
    free memory no longer counts.
    """
    free = free_memory(device) if check_enabled() else None
    if free is None or est.total - resident <= free[0]:
        return
    where = "this machine" if device.type == "cpu" else str(device)
    message = (
        f"{est.task} needs about {human_bytes(est.total)} ({_breakdown(est)}) but {where} has "
        f"{human_bytes(free[0])} free ({free[1]})"
    )
    diag = Diagnostic(code="E1521", message=message, span=span, help=f"{hint}; {OVERRIDE_HELP}")
    raise MemoryLimitError([diag], sources)


OOM_TYPES: tuple[type[BaseException], ...] = (torch.OutOfMemoryError, MemoryError)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch's and Python's out-of-memory errors, and the CPU allocator's RuntimeError."""
    if isinstance(exc, OOM_TYPES):
        return True
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)


def out_of_memory_error(exc: BaseException, task: str, device: torch.device, hint: str) -> MemoryLimitError:
    """The one-line MemoryLimitError (E1522) for an out-of-memory `exc` raised during `task`."""
    where = "this machine" if device.type == "cpu" else str(device)
    return MemoryLimitError(f"{task} ran out of memory on {where}: {_oom_detail(exc)}", code="E1522", help=hint)


def _oom_detail(exc: BaseException) -> str:
    """What failed, in a line: the CPU allocator's request in bytes, else the error's first line."""
    text = str(exc).strip()
    asked = re.search(r"tried to allocate (\d+) bytes", text)
    if asked:
        return f"could not allocate {human_bytes(int(asked.group(1)))}"
    return text.splitlines()[0][:200] if text else type(exc).__name__


@contextlib.contextmanager
def out_of_memory_as_error(task: str, device: torch.device, hint: str) -> Iterator[None]:
    """Turn an out-of-memory error raised inside the block into MemoryLimitError; others pass through."""
    try:
        yield
    except BaseException as exc:
        if not is_out_of_memory(exc):
            raise
        if device.type == "cuda":
            torch.cuda.empty_cache()
        raise out_of_memory_error(exc, task, device, hint) from None


def network_params(g: nx.DiGraph) -> int:
    """The parameter count of an IR graph, from a lowering on the meta device (nothing allocated)."""
    from archc.compiler.lower import lower

    with torch.device("meta"):
        model = lower(g)
    return sum(p.numel() for p in model.parameters())


def spec_place(spec: Spec | None) -> tuple[Span | None, dict[str, str] | None]:
    """Where a memory error about `spec` points: its `arch` line, with the text to show it."""
    if spec is None or spec.span is None:
        return None, None
    return spec.span, {spec.span.path: spec.text}


SHRINK_NETWORK = "a smaller `width` or fewer blocks per stage shrinks the network"


def check_network_fits(
    g: nx.DiGraph, device: torch.device, spec: Spec | None = None, params: int | None = None
) -> None:
    """Refuse (E1521) to build the network of `g` when its weights alone exceed free memory."""
    if not check_enabled():
        return
    free = free_memory(device)
    if params is None and free is not None and for_weights(screen_params(g)).total * 4 < free[0]:
        return  # far from the limit: skip the exact count (a lowering on the meta device)
    span, sources = spec_place(spec)
    n = network_params(g) if params is None else params
    check_fits(for_weights(n), device, hint=SHRINK_NETWORK, span=span, sources=sources)


FRAME_SHARE = 0.8  # of the free memory one inference pass may take (the allocator needs slack)


def frame_budget(g: nx.DiGraph, device: torch.device) -> int | None:
    """The most input pixels one inference pass of `g` may take on `device` (its weights already
    there), or None where free memory cannot be known or the check is off."""
    free = free_memory(device) if check_enabled() else None
    if free is None:
        return None
    return int(free[0] * FRAME_SHARE / inference_bytes_per_pixel(g))
