from __future__ import annotations

from pathlib import Path

import pytest

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
