"""Paths and loaders shared by the tests (imported as `helpers`; tests/ is on sys.path)."""

from __future__ import annotations

from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nafnet"
SPECS = ROOT / "specs"


def fixture(name: str) -> object:
    return torch.load(FIXTURES / name, weights_only=True)
