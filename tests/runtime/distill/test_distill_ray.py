"""Distillation on a real local Ray cluster: the same surrogates as `--cluster local`, also when a
Ray worker or the progress actor is killed mid-run, and through the command line."""

from __future__ import annotations

import os
import signal
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import archc
from archc.compiler.weights import load_state
from archc.errors import ProgressLostWarning
from archc.runtime.cluster import Executor, open_executor
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill import DistillRun, Event, distill, load_bank
from archc.runtime.distill.execute import worker_setup

import gate_work
from distill_helpers import FAST, Micro, config_flags, distill_cli
from gate_work import GatedExecutor, open_gate, waiting_pids
from ray_helpers import worker_pids


@pytest.fixture(scope="module")
def ray_ex(ray_cluster: str) -> Iterator[Executor]:
    """One driver for the module's runs that leave the progress channel whole: its workers, once
    started (torch imported), serve every test."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_ADDRESS", ray_cluster)
        with open_executor("ray", setup=worker_setup(FAST)) as ex:
            yield ex


@pytest.fixture
def fresh_ray_ex(ray_cluster: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Executor]:
    """An executor of its own (its own progress actor; the connection is shared while the module's
    executor is open), for a test that kills its progress channel."""
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    with open_executor("ray", setup=worker_setup(FAST)) as ex:
        yield ex


def _tensors(run: DistillRun) -> dict[str, dict[str, torch.Tensor]]:
    return {f"{e.slot}={e.candidate}": load_state(run.bank.root / e.file) for e in run.bank.entries if e.file}


def _assert_same(a: DistillRun, b: DistillRun) -> None:
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    for k in ta:
        assert ta[k].keys() == tb[k].keys()
        assert all(torch.equal(ta[k][n], tb[k][n]) for n in ta[k]), k


def _run(micro: Micro, out: Path, executor: Executor, on_event: object = None) -> DistillRun:
    spec = archc.parse(micro.spec)
    teacher = archc.build(spec, weights=micro.teacher)
    pairs = open_dataset(micro.data, split="train")
    return distill(spec, teacher, micro.teacher, pairs, out, FAST, None, on_event, executor)  # type: ignore[arg-type]


def test_ray_gives_the_surrogates_of_the_local_run(
    micro: Micro, micro_run: DistillRun, ray_ex: Executor, tmp_path: Path
) -> None:
    events: list[Event] = []
    run = _run(micro, tmp_path, ray_ex, events.append)
    assert len(run.trained) == 9
    _assert_same(run, micro_run)
    assert sorted(e.job for e in events if e.kind == "done") == sorted(run.trained)
    assert any(e.kind == "step" for e in events)  # progress flows back from the workers


def test_a_killed_worker_and_a_killed_progress_actor_cost_progress_lines_and_one_warning_only(
    micro: Micro, micro_run: DistillRun, fresh_ray_ex: Executor, tmp_path: Path
) -> None:
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(gate_work)  # tests/ is not importable on the workers
    gate = tmp_path / "gate"
    gate.mkdir()
    killed: dict[str, int] = {}
    events: list[Event] = []
    other_actors = set(worker_pids("ray::_QueueActor"))  # the progress actors of other drivers' runs

    def kill_a_worker_and_the_progress_actor(event: Event) -> None:
        # the first item at the gate: every item is still pending, so the run goes on after both kills
        events.append(event)
        if event.kind != "gate" or killed:
            return
        killed["worker"] = waiting_pids(gate)[0]
        os.kill(killed["worker"], signal.SIGKILL)
        actors = [pid for pid in worker_pids("ray::_QueueActor") if pid not in other_actors]
        if actors:
            os.kill(actors[0], signal.SIGKILL)
            killed["actor"] = actors[0]
        open_gate(gate)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = _run(micro, tmp_path / "run", GatedExecutor(fresh_ray_ex, gate), kill_a_worker_and_the_progress_actor)
    assert set(killed) == {"worker", "actor"}, f"killed only {sorted(killed)}"
    lost = [w for w in caught if issubclass(w.category, ProgressLostWarning)]
    assert len(lost) == 1, [str(w.message) for w in caught]
    assert len(run.trained) == 9
    _assert_same(run, micro_run)
    assert sum(e.kind == "done" for e in events) == 9  # the driver's own events go on


def test_the_command_line_distills_on_ray(
    micro: Micro, micro_run: DistillRun, ray_cluster: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    # one slot's jobs: the command line's path to Ray, not the scheduling the tests above check
    result = distill_cli(micro, tmp_path, *config_flags(FAST), "--no-report", "--cluster", "ray", "--slots", "enc1")
    assert result.exit_code == 0, result.output
    bank = load_bank(tmp_path / "surrogates")
    ref = _tensors(micro_run)
    assert {e.slot for e in bank.entries} == {"enc1"} and any(e.file for e in bank.entries)
    for e in bank.entries:
        if e.file:
            got = load_state(bank.root / e.file)
            assert all(torch.equal(got[n], ref[f"{e.slot}={e.candidate}"][n]) for n in got)


class _DriverKilled(Exception):
    pass


def test_a_stopped_driver_resumes_on_ray_training_only_what_was_missing(
    micro: Micro, micro_run: DistillRun, ray_ex: Executor, tmp_path: Path
) -> None:
    done: list[str] = []

    def stop_after_three(event: Event) -> None:
        if event.kind == "done":
            done.append(event.job or "")
            if len(done) == 3:
                raise _DriverKilled

    with pytest.raises(_DriverKilled):
        _run(micro, tmp_path, ray_ex, stop_after_three)
    assert len(list((tmp_path / "jobs").glob("*.safetensors"))) >= 3
    resumed = _run(micro, tmp_path, ray_ex)  # a job running at the stop may still have finished: reused too
    assert set(done) <= set(resumed.reused) and not set(resumed.reused) & set(resumed.trained)
    assert len(resumed.reused) + len(resumed.trained) == 9
    _assert_same(resumed, micro_run)
