from __future__ import annotations

from pathlib import Path

import pytest

from archc.runtime.profile.workload import Workload

from profile_helpers import FAST_FLAGS, TINY, run_cli


@pytest.fixture(scope="session")
def tiny_cpu_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cpu block table of nafnet_tiny at 32x32 with 6 validated networks (shared by tests)."""
    out = tmp_path_factory.mktemp("tiny_cpu")
    result = run_cli(
        "profile", TINY, "--device", "cpu", "--size", "32", "32", "--out", out, "--validate", "6", *FAST_FLAGS
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def phone_block() -> Workload:
    """A dsconv block (4 channels, 8x8) with every weight moved off its initial value: the one workload
    the phone-runtime tests convert (conversions are cached by workload key, so once per runtime)."""
    import torch

    import archc
    from archc.runtime.profile.table import block_workload

    w = block_workload(archc.parse_block("dsconv"), 4, (8, 8))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in w.module.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    return w
