"""Accelerator names resolve to devices, or fail naming what this machine has."""

from __future__ import annotations

import pytest
import torch

from archc.runtime.accel.accelerator import (
    AcceleratorError,
    available,
    check_name,
    describe,
    gpu_count,
    resolve,
    resolve_here,
)


def test_cpu_and_auto_resolve() -> None:
    assert resolve("cpu") == torch.device("cpu")
    assert resolve("CPU") == torch.device("cpu")
    expected = torch.device("cuda", 0) if gpu_count() else torch.device("cpu")
    assert resolve("auto") == expected


def test_unknown_name_lists_the_names() -> None:
    with pytest.raises(AcceleratorError) as info:
        resolve("tpu")
    diag = info.value.diagnostics[0]
    assert diag.code == "E1501" and "`tpu`" in diag.message and "cuda:N" in (diag.help or "")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_cuda_names_what_was_found(name: str) -> None:
    with pytest.raises(AcceleratorError) as info:
        resolve(name)
    message = info.value.diagnostics[0].message
    assert "CUDA was asked for" in message and torch.__version__ in message and message.endswith("found: cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_out_of_range() -> None:
    with pytest.raises(AcceleratorError) as info:
        resolve(f"cuda:{gpu_count()}")
    assert info.value.diagnostics[0].code == "E1503"


def test_mps_when_missing() -> None:
    if "mps" in available():
        assert resolve("mps").type == "mps"
        return
    with pytest.raises(AcceleratorError) as info:
        resolve("mps")
    assert info.value.diagnostics[0].code == "E1504"


def test_describe_records_the_run_fields() -> None:
    record = describe(resolve("cpu"), "bf16")
    assert record["accelerator"] == "cpu" and record["amp"] == "bf16" and record["accelerator_name"]
    assert available()[0] == "cpu"


def test_names_are_checked_without_the_hardware_and_resolved_here_when_present() -> None:
    assert check_name(" CUDA:3 ") == "cuda:3" and check_name("auto") == "auto"
    with pytest.raises(AcceleratorError):
        check_name("gpu")
    expected = torch.device("cuda", 7) if gpu_count() > 7 else torch.device("cpu")
    assert resolve_here("cuda:7") == expected
