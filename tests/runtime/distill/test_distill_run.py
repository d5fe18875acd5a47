"""Running every job: resume after a kill trains nothing twice, the same seed gives the same
surrogates (in this process or in a pool), settings are pinned per run folder, block granularity."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import torch

import archc
from archc.compiler.weights import load_state
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill import DistillConfig, DistillError, DistillRun, Event, distill
from archc.runtime.distill.execute import EventCallback
from archc.runtime.distill.run import run_lock

from distill_helpers import FAST, Micro


class _Kill(Exception):
    pass


def _run(
    micro: Micro,
    out: Path,
    cfg: DistillConfig = FAST,
    slots: list[str] | None = None,
    on_event: EventCallback | None = None,
) -> DistillRun:
    spec = archc.parse(micro.spec)
    teacher = archc.build(spec, weights=micro.teacher)
    return distill(spec, teacher, micro.teacher, open_dataset(micro.data, split="train"), out, cfg, slots, on_event)


def _tensors(run: DistillRun) -> dict[str, dict[str, torch.Tensor]]:
    return {f"{e.slot}={e.candidate}": load_state(run.bank.root / e.file) for e in run.bank.entries if e.file}


def _same(a: dict[str, dict[str, torch.Tensor]], b: dict[str, dict[str, torch.Tensor]]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].keys() == b[k].keys() and all(torch.equal(a[k][n], b[k][n]) for n in a[k]) for k in a
    )


def test_resume_after_a_kill_trains_nothing_twice(micro: Micro, micro_run: DistillRun, tmp_path: Path) -> None:
    started: list[str] = []

    def kill_after_four(event: Event) -> None:
        if event.kind == "start":
            started.append(event.job or "")
        if event.kind == "done" and len(started) == 4:
            raise _Kill

    with pytest.raises(_Kill):
        _run(micro, tmp_path, on_event=kill_after_four)
    assert len(list((tmp_path / "jobs").glob("*.safetensors"))) == 4
    resumed = _run(micro, tmp_path)
    assert set(resumed.reused) == set(started) and not set(resumed.trained) & set(started)
    assert len(resumed.trained) + len(resumed.reused) == len(resumed.jobs) == 9
    again = _run(micro, tmp_path)
    assert again.trained == () and len(again.bank.entries) == 9
    assert _same(_tensors(resumed), _tensors(micro_run))  # killed + resumed == uninterrupted


def test_same_seed_same_surrogates_other_seed_others(micro: Micro, micro_run: DistillRun, tmp_path: Path) -> None:
    again = _run(micro, tmp_path / "again", slots=["enc1", "enc2"])
    mine = {k: v for k, v in _tensors(micro_run).items() if not k.startswith("dec1")}
    assert _same(_tensors(again), mine)
    other = _run(micro, tmp_path / "other", attrs.evolve(FAST, seed=1), slots=["enc1"])
    assert not _same(_tensors(other), {k: v for k, v in mine.items() if k.startswith("enc1")})


def test_a_pool_of_two_gives_the_same_surrogates(micro: Micro, micro_run: DistillRun, tmp_path: Path) -> None:
    events: list[Event] = []
    pooled = _run(micro, tmp_path, attrs.evolve(FAST, jobs=2), slots=["enc1"], on_event=events.append)
    assert _same(_tensors(pooled), {k: v for k, v in _tensors(micro_run).items() if k.startswith("enc1")})
    assert sorted(e.job for e in events if e.kind == "done") == sorted(pooled.trained)
    assert any(e.kind == "step" for e in events)


def test_a_run_folder_keeps_its_settings(micro: Micro, tmp_path: Path) -> None:
    _run(micro, tmp_path, attrs.evolve(FAST, iters=1), slots=["dec1"])
    with pytest.raises(DistillError, match=r"other settings \(iters differ\)") as err:
        _run(micro, tmp_path, attrs.evolve(FAST, iters=2), slots=["dec1"])
    assert err.value.diagnostics[0].code == "E1102"
    with pytest.raises(DistillError, match="--fraction must be in"):
        _run(micro, tmp_path / "bad", attrs.evolve(FAST, fraction=0.0))


def test_block_granularity_assembles_one_file_per_slot_and_candidate(micro: Micro, tmp_path: Path) -> None:
    run = _run(micro, tmp_path, attrs.evolve(FAST, granularity="block"), slots=["enc2"])
    assert len(run.jobs) == 5 and len(run.bank.entries) == 3
    entry = run.bank.get("enc2", "dsconv")
    assert entry is not None and (entry.parts, entry.start, entry.stop) == (2, 0, 2)
    tensors = load_state(run.bank.root / entry.file)  # type: ignore[operator]
    assert {k.split(".")[0] for k in tensors} == {"0", "1"}
    model = archc.build(micro.spec, {"enc2": "dsconv"}, micro.teacher, surrogates=run.bank.root)
    assert torch.equal(model.state_dict()["encoders.1.1.pw.weight"], tensors["1.pw.weight"])


def test_one_run_at_a_time_per_folder(micro: Micro, tmp_path: Path) -> None:
    with run_lock(tmp_path), pytest.raises(DistillError, match="another `archc distill` is running") as err:
        _run(micro, tmp_path, slots=["dec1"])
    assert err.value.diagnostics[0].code == "E1112"
    assert _run(micro, tmp_path, attrs.evolve(FAST, iters=1), slots=["dec1"]).trained  # the lock is released


def test_zero_iters_plugs_candidates_in_as_initialised(micro: Micro, micro_run: DistillRun, tmp_path: Path) -> None:
    """The no-distillation ablation: every candidate is saved as built (same seed, no step taken)."""
    untrained = _run(micro, tmp_path, attrs.evolve(FAST, iters=0))
    assert {e.steps for e in untrained.bank.entries} == {0}
    before, after = _tensors(untrained), _tensors(micro_run)
    assert before.keys() == after.keys()
    moved = [k for k in before if any(not torch.equal(before[k][n], after[k][n]) for n in before[k])]
    assert moved  # the distilled run did train; the untrained one kept what it was given
