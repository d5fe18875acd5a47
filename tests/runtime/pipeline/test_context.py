"""The stages' shared `Context`: what it checks before any work, and the teacher checked once."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from archc.errors import AcceleratorError, ClusterError, WeakTeacherError
from archc.runtime.evaluation.guard import measure
from archc.runtime.pipeline import Context

from distill_helpers import write_data, write_spec, write_teacher


def test_a_bad_accelerator_or_cluster_fails_before_any_work() -> None:
    with pytest.raises(AcceleratorError):
        Context(accelerator="tpu").check()
    with pytest.raises(ClusterError):
        Context(accelerator="cpu", cluster="slurm").check()


def test_a_local_cluster_has_no_executor_to_share() -> None:
    with Context(accelerator="cpu") as ctx:
        assert ctx.executor(4) is None


def test_a_teacher_is_checked_once_per_weights_data_images_and_crop(tmp_path: Path) -> None:
    import archc

    spec = write_spec(tmp_path)
    weights, data = str(write_teacher(spec, tmp_path / "t.safetensors")), str(write_data(tmp_path / "data"))
    screen = Console(record=True, width=200)
    ctx = Context(accelerator="cpu", allow_weak_teacher=True, console=screen)
    first = ctx.check_teacher(archc.parse(spec), weights, data, 2, None)
    again = ctx.check_teacher(archc.parse(spec), weights, data, 2, None)
    assert again is first  # the same check, not a second measurement
    from archc.runtime.data.datasets import open_dataset

    expected = measure(archc.build(spec, None, weights), open_dataset(data, split="test"), 2, None, ctx.device())
    assert first.teacher_psnr == pytest.approx(expected.teacher_psnr) and first.images == 2
    assert len(screen.export_text().splitlines()) == 1  # one line for the two calls
    other = ctx.check_teacher(archc.parse(spec), weights, data, 1, None)  # other images: a check of its own
    assert other is not first and other.images == 1


def test_a_weak_teacher_stops_unless_allowed(tmp_path: Path) -> None:
    """The micro teacher's random residual scales blur more than they restore."""
    import archc

    spec = write_spec(tmp_path)
    weights, data = str(write_teacher(spec, tmp_path / "t.safetensors")), str(write_data(tmp_path / "data"))
    allowed = Context(accelerator="cpu", allow_weak_teacher=True, console=Console(quiet=True))
    assert not allowed.check_teacher(archc.parse(spec), weights, data, 2, None).passed
    with pytest.raises(WeakTeacherError):
        Context(accelerator="cpu", console=Console(quiet=True)).check_teacher(archc.parse(spec), weights, data, 2, None)
