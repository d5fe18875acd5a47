from __future__ import annotations

import pytest

import archc
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill import DistillRun, distill

from distill_helpers import FAST, Micro, write_data, write_spec, write_teacher


@pytest.fixture(scope="session")
def micro(tmp_path_factory: pytest.TempPathFactory) -> Micro:
    root = tmp_path_factory.mktemp("micro")
    spec = write_spec(root)
    return Micro(spec, write_data(root / "data"), write_teacher(spec, root / "teacher.safetensors"))


@pytest.fixture(scope="session")
def micro_run(micro: Micro, tmp_path_factory: pytest.TempPathFactory) -> DistillRun:
    """Every surrogate of the micro search space, FAST settings (shared; tests must not write into it)."""
    spec = archc.parse(micro.spec)
    teacher = archc.build(spec, weights=micro.teacher)
    pairs = open_dataset(micro.data, split="train")
    return distill(spec, teacher, micro.teacher, pairs, tmp_path_factory.mktemp("run"), FAST)
