"""The measured backends on this machine, with real ONNX Runtime and PyTorch."""

from __future__ import annotations

import onnxruntime
import torch

import archc
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.table import block_workload

from profile_helpers import FAST


def _naf():  # type: ignore[no-untyped-def]
    return block_workload(archc.parse_block("naf"), 8, (16, 16))


def test_ort_cpu_measures_with_its_protocol() -> None:
    m = resolve("cpu", FAST).profile(_naf())
    assert m.kind == "measured" and m.median_ms > 0 and m.iqr_ms is not None and m.iqr_ms >= 0
    assert FAST.min_repeats <= m.repeats <= FAST.max_repeats
    p = m.protocol
    assert p["threads"] == 1 and p["provider"] == "CPUExecutionProvider" and p["warmup"] == FAST.warmup
    assert p["onnxruntime"] == onnxruntime.__version__ and p["torch"] == torch.__version__ and p["machine"]["cpu"]


def test_torch_cpu_measures_and_restores_the_thread_count() -> None:
    before = torch.get_num_threads()
    m = resolve("torch-cpu", FAST.__class__(threads=2, warmup=1, min_repeats=3, max_repeats=4)).profile(_naf())
    assert m.kind == "measured" and m.median_ms > 0 and m.protocol["threads"] == 2
    assert torch.get_num_threads() == before
