"""Rounds of q proposals evaluated in parallel: the journal of a seed is the same in this process,
in a local pool and on a real Ray cluster; a killed round keeps what had finished."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import archc
from archc.compiler.blocks.registry import plugin_files
from archc.compiler.space import SearchSpace
from archc.runtime.cluster import Executor, WorkerSetup, open_executor
from archc.runtime.data.datasets import open_dataset
from archc.runtime.distill import distill
from archc.runtime.search.journal import Evaluation, Journal
from archc.runtime.search.objectives import NetworkObjectives, QualityEvaluator, latency_matrix, rows_latency
from archc.runtime.search.run import SearchSetup, run

from distill_helpers import FAST, write_data, write_spec, write_teacher

BUDGET, Q = 10, 2


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> SearchSetup:
    """The micro space, a teacher, its surrogate bank, and a made-up additive latency per candidate."""
    root = tmp_path_factory.mktemp("search")
    spec_path = write_spec(root)
    data, teacher = write_data(root / "data"), write_teacher(spec_path, root / "teacher.safetensors")
    spec = archc.parse(spec_path)
    distill(spec, archc.build(spec, weights=teacher), teacher, open_dataset(data, split="train"), root / "run", FAST)
    space = SearchSpace.of(spec)
    cost = {"naf": 3.0, "naf(sca=off)": 2.5, "dsconv": 1.0, "identity": 0.0}

    def predict(choice: Any) -> float:
        return 10.0 + sum(cost[choice.get(s.name, s.original).canonical] * (1 + i) for i, s in enumerate(space.slots))

    rows = rows_latency(*latency_matrix(space, predict))
    quality = QualityEvaluator(spec, space, teacher, root / "run" / "surrogates", open_dataset(data, split="test"),
                               images=2, crop=16)
    return SearchSetup(spec, space, NetworkObjectives(quality, rows.one), rows, "modelled", "test")


def _journal(setup: SearchSetup, out: Path, executor: Executor) -> list[tuple[Any, ...]]:
    run(setup, out, "botorch", BUDGET, seed=3, batch=Q, executor=executor)
    return [(e.order, e.canonical, e.indices, e.objectives) for e in Journal(out / "journal.jsonl").load()]


@pytest.fixture(scope="module")
def local_journal(setup: SearchSetup, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    with open_executor("local", 1, WorkerSetup(threads=1)) as ex:
        return _journal(setup, tmp_path_factory.mktemp("local"), ex)


def test_q_proposals_per_round_fill_the_budget(local_journal: list[tuple[Any, ...]]) -> None:
    assert [o for o, *_ in local_journal] == list(range(BUDGET))
    assert len({c for _, c, *_ in local_journal}) == BUDGET


def test_a_local_pool_gives_the_same_journal(setup: SearchSetup, local_journal: list[tuple[Any, ...]],
                                             tmp_path: Path) -> None:
    with open_executor("local", 2, WorkerSetup(threads=1, plugins=plugin_files())) as ex:
        assert _journal(setup, tmp_path, ex) == local_journal


@pytest.fixture
def ray_ex(ray_cluster: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Executor]:
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    with open_executor("ray", setup=WorkerSetup(threads=1)) as ex:
        yield ex


def test_ray_gives_the_same_journal(setup: SearchSetup, local_journal: list[tuple[Any, ...]], ray_ex: Executor,
                                    tmp_path: Path) -> None:
    assert _journal(setup, tmp_path, ray_ex) == local_journal


class _Stop(Exception):
    pass


def test_a_killed_round_keeps_what_finished_and_repeats_nothing(setup: SearchSetup, tmp_path: Path) -> None:
    seen: list[Evaluation] = []

    def stop_after_five(ev: Evaluation) -> None:
        seen.append(ev)
        if len(seen) == 5:
            raise _Stop

    with open_executor("local", 1, WorkerSetup(threads=1)) as ex, pytest.raises(_Stop):
        run(setup, tmp_path, "random", BUDGET, seed=3, batch=Q, on_eval=stop_after_five, executor=ex)
    kept = Journal(tmp_path / "journal.jsonl").load()
    assert [e.canonical for e in kept] == [e.canonical for e in seen]
    with open_executor("local", 1, WorkerSetup(threads=1)) as ex:
        run(setup, tmp_path, "random", BUDGET, seed=3, batch=Q, executor=ex)
    final = Journal(tmp_path / "journal.jsonl").load()
    assert len(final) == BUDGET and len({e.canonical for e in final}) == BUDGET
    assert [e.canonical for e in final[:5]] == [e.canonical for e in seen]
