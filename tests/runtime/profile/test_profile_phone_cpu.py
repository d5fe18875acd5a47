"""`executorch-cpu` and `litert-cpu`: a block converted as a phone app ships it, run and timed in the
runtime itself (skipped, with the install command, where the runtime is not installed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archc.compiler.mobile import available, install_command
from archc.runtime.profile.devices import listing, resolve
from archc.runtime.profile.phone_cpu import converted, unfoldable
from archc.runtime.profile.workload import Workload

from helpers import fresh_python
from profile_helpers import FAST

DEVICES = {"executorch-cpu": "pte", "litert-cpu": "tflite"}


def test_both_are_listed_as_measured() -> None:
    kinds = {d.name: d.kind for d in listing()}
    assert kinds["executorch-cpu"] == kinds["litert-cpu"] == "measured"


@pytest.mark.parametrize(
    "device",
    [
        pytest.param(d, marks=pytest.mark.skipif(not available(f), reason=f"needs {install_command(f)}"))
        for d, f in DEVICES.items()
    ],
)
def test_measures_the_block_it_was_given(device: str, phone_block: Workload) -> None:
    from archc.compiler.pte_export import PteRunner
    from archc.compiler.tflite_export import TfliteRunner

    w = phone_block
    m = resolve(device, FAST).profile(w)
    assert m.kind == "measured" and m.median_ms > 0 and FAST.min_repeats <= m.repeats <= FAST.max_repeats
    assert m.protocol["runtime"] in ("executorch", "litert") and m.protocol["threads"] == 1
    fmt = DEVICES[device]
    runner = (PteRunner if fmt == "pte" else TfliteRunner)(converted(fmt, w))
    x = np.random.default_rng(1).random(w.shape, dtype=np.float32)
    with torch.no_grad():
        ref = w.module.eval()(torch.from_numpy(x)).numpy()
    assert np.abs(runner.run(x) - ref).max() < 1e-4


def test_unfoldable_sets_only_all_zero_parameters_and_leaves_the_module_alone() -> None:
    import archc
    from archc.runtime.profile.table import block_workload

    fresh = block_workload(archc.parse_block("naf"), 4, (8, 8)).module
    zero = {n for n, p in fresh.named_parameters() if not p.any()}
    assert zero, "a fresh naf block has all-zero residual scales"
    copy = unfoldable(fresh)
    for (name, p), (_, q) in zip(fresh.named_parameters(), copy.named_parameters(), strict=True):
        assert q.any()
        assert torch.equal(q, torch.full_like(p, 0.1)) if name in zero else torch.equal(p, q)
    assert all(not p.any() for n, p in fresh.named_parameters() if n in zero)


@pytest.mark.skipif(not available("tflite"), reason=f"needs {install_command('tflite')}")
def test_a_fresh_block_is_not_folded_away_before_it_is_timed() -> None:
    """A fresh naf block is `x` plus zero-scaled branches; converted as built, LiteRT would fold it
    to a copy of its input and the table would time nothing."""
    import archc
    from archc.compiler.tflite_export import TfliteRunner
    from archc.runtime.profile.table import block_workload

    w = block_workload(archc.parse_block("naf"), 4, (8, 8))
    x = np.random.default_rng(2).random(w.shape, dtype=np.float32)
    with torch.no_grad():
        ref = unfoldable(w.module).eval()(torch.from_numpy(x)).numpy()
    got = TfliteRunner(converted("tflite", w)).run(x)
    assert np.abs(got - x).max() > 1e-3  # the block's branches are there
    assert np.abs(got - ref).max() < 1e-4


ONE_THREAD_CHECK = """
import time
import numpy as np, torch
import archc
from archc.compiler.pte_export import PteRunner
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.measure import Protocol
from archc.runtime.profile.phone_cpu import converted
from archc.runtime.profile.table import block_workload

w = block_workload(archc.parse_block("dsconv"), 16, (64, 64))
with torch.no_grad():
    for p in w.module.parameters():
        p.add_(0.1)
torch.set_num_threads(2)  # a process left at PyTorch's default on two cores, that ran the network before
runner = PteRunner(converted("pte", w))
x = np.random.default_rng(0).random(w.shape, dtype=np.float32)
for _ in range(20):
    runner.run(x)
time.sleep(0.5)  # PyTorch's pool threads spin a little after their last task: not the timing's
m = resolve("executorch-cpu", Protocol(warmup=1, min_repeats=100, max_repeats=100)).profile(w)
print(m.extra["other_threads_pct"])
"""


@pytest.mark.skipif(not available("pte"), reason=f"needs {install_command('pte')}")
def test_a_one_thread_executorch_timing_runs_on_the_calling_thread_alone() -> None:
    """ExecuTorch's XNNPACK delegate also runs on PyTorch's intra-op pool; a process that left
    PyTorch at two threads handed a share of every timed run to a second thread. Run in a fresh
    process, as `archc profile` is: the suite's own processes keep threads of earlier tests."""
    assert float(fresh_python(ONE_THREAD_CHECK)[-1]) < 10
