from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nafnet"
SPECS = ROOT / "specs"

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for reference_nafnet


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def fixture(name: str) -> object:
    return torch.load(FIXTURES / name, weights_only=True)
