from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

# shared test modules (helpers, reference_nafnet, macs) import by plain name
sys.path.insert(0, str(Path(__file__).resolve().parent))
# BoTorch's optional fused C++ kernel is compiled on first use; the tests keep the Python path
os.environ.setdefault("ARCHC_BOTORCH_FUSED", "0")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)
