"""`executorch-cpu` and `litert-cpu`: a block converted as a phone app ships it, run and timed in the
runtime itself (skipped, with the install command, where the runtime is not installed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archc.compiler.mobile import available, install_command
from archc.runtime.profile.devices import listing, resolve
from archc.runtime.profile.phone_cpu import converted
from archc.runtime.profile.workload import Workload

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
