"""Free memory, the refusal of what cannot fit, and out-of-memory errors turned into one message."""

from __future__ import annotations

import pytest
import torch

from archc.api import compile_ir, parse
from archc.compiler.memory import MemoryEstimate, for_training
from archc.runtime.accel.memory import (
    CHECK_ENV,
    LIMIT_ENV,
    MemoryLimitError,
    check_fits,
    check_network_fits,
    cpu_free,
    frame_budget,
    free_memory,
    out_of_memory_as_error,
    parse_bytes,
)

from helpers import SPECS

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    monkeypatch.delenv(CHECK_ENV, raising=False)


def test_sizes_parse() -> None:
    assert parse_bytes("8G") == 8 << 30 and parse_bytes("512M") == 512 << 20 and parse_bytes("1.5K") == 1536
    assert parse_bytes("123") == 123 and parse_bytes("2GiB") == 2 << 30
    with pytest.raises(MemoryLimitError):
        parse_bytes("lots")


def test_cpu_free_memory_is_known_and_positive() -> None:
    free, source = cpu_free()
    assert free > 0 and source


def test_limit_override_and_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    big = MemoryEstimate("training", 2 << 20, 0, 0)
    monkeypatch.setenv(LIMIT_ENV, "1M")
    assert free_memory(CPU) == (1 << 20, LIMIT_ENV)
    with pytest.raises(MemoryLimitError) as info:
        check_fits(big, CPU, hint="a smaller --batch")
    diag = info.value.diagnostics[0]
    assert diag.code == "E1521" and "2.0 MB" in diag.message and "1.0 MB free" in diag.message
    assert "a smaller --batch" in (diag.help or "") and CHECK_ENV in (diag.help or "")
    monkeypatch.setenv(CHECK_ENV, "off")
    check_fits(big, CPU, hint="")


def test_a_normal_network_fits_and_its_too_large_batch_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = parse(SPECS / "nafnet_tiny.arch")
    g = compile_ir(spec)
    check_network_fits(g, CPU, spec)
    check_fits(for_training(321_499, g, 96, 16), CPU, hint="")
    monkeypatch.setenv(LIMIT_ENV, "64M")
    with pytest.raises(MemoryLimitError) as info:
        check_fits(for_training(321_499, g, 1024, 64), CPU, hint="a smaller --batch (now 64)")
    assert "training needs about" in info.value.diagnostics[0].message


def test_the_refusal_points_at_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = parse(SPECS / "nafnet_tiny.arch")
    monkeypatch.setenv(LIMIT_ENV, "1K")
    with pytest.raises(MemoryLimitError) as info:
        check_network_fits(compile_ir(spec), CPU, spec)
    text = info.value.render()
    assert "nafnet_tiny.arch:" in text and "arch nafnet_tiny" in text and "smaller `width`" in text


def test_frame_budget_follows_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    g = compile_ir(SPECS / "nafnet_tiny.arch")
    monkeypatch.setenv(LIMIT_ENV, "64M")
    small = frame_budget(g, CPU)
    monkeypatch.setenv(LIMIT_ENV, "128M")
    assert small is not None and 0 < small < (frame_budget(g, CPU) or 0)
    monkeypatch.setenv(CHECK_ENV, "off")
    assert frame_budget(g, CPU) is None


def _allocate_too_much() -> torch.Tensor:
    return torch.empty(1 << 55, dtype=torch.uint8)  # 32 PiB: the CPU allocator refuses it


def test_a_real_cpu_allocation_failure_becomes_one_message() -> None:
    with pytest.raises(MemoryLimitError) as info, out_of_memory_as_error("training", CPU, "a smaller --batch"):
        _allocate_too_much()
    diag = info.value.diagnostics[0]
    assert (
        diag.code == "E1522"
        and diag.message == "training ran out of memory on this machine: could not allocate 32.0 PB"
    )
    assert "\n" not in diag.message and diag.help == "a smaller --batch"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def _raise_torch_oom() -> None:
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has 79 GiB in all")


def test_torch_out_of_memory_error_becomes_one_message() -> None:
    with pytest.raises(MemoryLimitError) as info, out_of_memory_as_error("restoring", CPU, "--tile 512"):
        _raise_torch_oom()
    assert "CUDA out of memory. Tried to allocate 20.00 GiB" in info.value.diagnostics[0].message


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError), out_of_memory_as_error("training", CPU, ""):
        raise ValueError("not memory")
