"""Search strategies on a deterministic toy objective whose true front is known by enumeration."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import archc
from archc.compiler.space import SearchSpace
from archc.runtime.search.bo import BoTorchStrategy
from archc.runtime.search.engine import run_search
from archc.runtime.search.journal import Journal
from archc.runtime.search.nsga2 import NSGA2Strategy
from archc.runtime.search.pareto import front_indices, hypervolume_2d, knee
from archc.runtime.search.random_search import RandomStrategy

SPEC = """
arch toy { width 4
  encoder e1: naf  encoder e2: naf  middle m: naf  decoder d2: naf  decoder d1: naf }
search over toy { candidates *: naf | naf(sca=off) | dsconv | identity
  exclude e1: dsconv }
"""
COST = np.array([10.0, 8.0, 4.0, 0.0])  # latency per candidate index
DAMAGE = np.array([0.0, 0.1, 0.5, 1.6])  # quality loss per candidate index
WEIGHT = np.array([1.0, 2.0, 3.0, 1.5, 0.5])


def _space() -> SearchSpace:
    return SearchSpace.of(archc.parse(SPEC))


def toy(space: SearchSpace):  # type: ignore[no-untyped-def]
    """Deterministic objectives from the candidates' canonical names (not their indices)."""
    names = ["naf", "naf(sca=off)", "dsconv", "identity"]

    def f(idx: tuple[int, ...]) -> dict[str, float]:
        kinds = [names.index(space.slots[i].candidates[c].canonical) for i, c in enumerate(idx)]
        drop = float(sum(WEIGHT[i] * DAMAGE[k] for i, k in enumerate(kinds)) + 0.05 * kinds[0] * kinds[-1])
        lat = float(20 + sum(COST[k] * (1 + 0.2 * i) for i, k in enumerate(kinds)))
        return {"psnr_drop": drop, "latency_ms": lat}

    return f


def _truth(space: SearchSpace) -> np.ndarray:
    f = toy(space)
    return np.array([[f(space.indices_at(i))["psnr_drop"], f(space.indices_at(i))["latency_ms"]]
                     for i in range(space.size)])


@pytest.mark.parametrize("make", [
    lambda s, seed: RandomStrategy(s, seed),
    lambda s, seed: NSGA2Strategy(s, seed, population_size=8),
    lambda s, seed: BoTorchStrategy(s, seed, n_init=8),
])
def test_strategies_return_points_of_the_space_and_never_excluded_ones(tmp_path, make) -> None:  # type: ignore[no-untyped-def]
    space = _space()
    truth = _truth(space)
    history = run_search(space, toy(space), make(space, 0), 16, Journal(tmp_path / "j.jsonl"))
    assert len(history) == 16 == len({e.canonical for e in history})
    assert all("e1=dsconv" not in e.canonical for e in history)
    for e in history:
        flat = space.index_of(e.indices)
        assert [e.psnr_drop, e.latency_ms] == pytest.approx(list(truth[flat]))


def test_botorch_reaches_most_of_the_true_hypervolume(tmp_path) -> None:  # type: ignore[no-untyped-def]
    space = _space()
    truth = _truth(space)
    ref = [float(truth[:, 0].max()) * 1.1, float(truth[:, 1].max()) * 1.1]
    true_hv = hypervolume_2d(truth[front_indices(truth)], ref)
    strat = BoTorchStrategy(space, 1, latency=lambda rows: np.array(
        [toy(space)(tuple(r))["latency_ms"] for r in rows]), n_init=8, ref_drop=ref[0], ref_latency=ref[1])
    history = run_search(space, toy(space), strat, 24, Journal(tmp_path / "bo.jsonl"))
    pts = np.array([[e.psnr_drop, e.latency_ms] for e in history])
    assert hypervolume_2d(pts, ref) / true_hv > 0.95  # 24 of 768 networks (seeds 1-3 reach 0.983-0.987)


def test_resume_after_kill_never_evaluates_twice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    space = _space()
    calls: list[tuple[int, ...]] = []
    f = toy(space)

    def counted(idx: tuple[int, ...]) -> dict[str, float]:
        calls.append(idx)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return f(idx)

    journal = Journal(tmp_path / "j.jsonl")
    with pytest.raises(KeyboardInterrupt):
        run_search(space, counted, NSGA2Strategy(space, 3, population_size=6), 15, journal)
    with journal.path.open("a") as fh:
        fh.write('{"canonical": "cut sho')  # a line cut short by the kill
    assert len(journal.load()) == 6
    history = run_search(space, counted, NSGA2Strategy(space, 3, population_size=6), 15, journal)
    assert len(history) == 15
    # every journaled network was evaluated once; only the one killed mid-evaluation was redone
    counts = Counter(calls)
    assert {c for c, n in counts.items() if n > 1} <= {calls[6]}
    assert len(history) == len({e.indices for e in history})


def test_hypervolume_and_knee_by_hand() -> None:
    pts = np.array([[0.0, 10.0], [1.0, 4.0], [3.0, 3.0], [2.0, 8.0]])
    assert front_indices(pts) == [2, 1, 0]
    assert hypervolume_2d(pts, [4.0, 11.0]) == pytest.approx(1 * 1 + 2 * 7 + 1 * 8)
    assert knee(pts) == 1
