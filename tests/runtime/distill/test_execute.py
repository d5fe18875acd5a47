"""What one distillation job asks of a backend: its threads, and a GPU share only on a GPU."""

from __future__ import annotations

import attrs

from archc.runtime.cluster import Resources
from archc.runtime.distill.execute import GPU_SHARE, job_resources

from distill_helpers import FAST


def test_a_job_asks_its_threads_and_a_gpu_share_only_when_it_trains_on_a_gpu() -> None:
    assert job_resources(FAST, gpus=0) == Resources(cpus=1.0, gpus=0.0)
    assert job_resources(attrs.evolve(FAST, accelerator="auto"), gpus=0) == Resources(cpus=1.0, gpus=0.0)
    assert job_resources(attrs.evolve(FAST, accelerator="auto"), gpus=2).gpus == GPU_SHARE
    assert job_resources(attrs.evolve(FAST, accelerator="cuda:1", threads=2), gpus=0) == Resources(2.0, GPU_SHARE)
    assert job_resources(attrs.evolve(FAST, accelerator="cpu"), gpus=8).gpus == 0.0
