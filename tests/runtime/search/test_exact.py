"""The exact front of a separable objective, checked against brute force on small spaces."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archc
from archc.compiler.space import SearchSpace
from archc.runtime.search.exact import Interaction, SeparableObjective, exact_front, sweep_front
from archc.runtime.search.pareto import hypervolume_2d, non_dominated


def _random_objective(seed: int, radices: tuple[int, ...], pairs: int, ints: bool) -> SeparableObjective:
    rng = np.random.default_rng(seed)
    draw = (lambda *s: rng.integers(0, 4, size=s).astype(float)) if ints else (lambda *s: rng.normal(size=s))
    m = max(radices)
    slot_pairs = list(itertools.combinations(range(len(radices)), 2))
    chosen = [slot_pairs[k] for k in rng.permutation(len(slot_pairs))[:pairs]] if slot_pairs else []
    inter = tuple(Interaction(i, j, draw(m, m)) for i, j in chosen)
    return SeparableObjective(radices, draw(len(radices), m), draw(len(radices), m), inter, 10.0, 0.5)


def _brute(obj: SeparableObjective) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Every network by itertools.product and plain Python sums (independent of `points`)."""
    rows = list(itertools.product(*[range(r) for r in obj.radices]))
    pts = []
    for r in rows:
        d = obj.drop_base + sum(obj.drop[i, c] for i, c in enumerate(r))
        d += sum(t.table[r[t.i], r[t.j]] for t in obj.interactions)
        lat = obj.latency_base + sum(obj.latency[i, c] for i, c in enumerate(r))
        pts.append([d, lat])
    return rows, np.array(pts)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 5), min_size=1, max_size=5),
       st.integers(0, 4), st.booleans(), st.integers(1, 50))
def test_exact_front_equals_brute_force(seed, radices, pairs, ints, chunk) -> None:  # type: ignore[no-untyped-def]
    obj = _random_objective(seed, tuple(radices), pairs, ints)
    rows, pts = _brute(obj)
    front_pts, flat = exact_front(obj, chunk=chunk)
    truth = {tuple(p) for p in np.round(pts[non_dominated(pts)], 9)}
    assert {tuple(p) for p in np.round(front_pts, 9)} == truth
    assert len(front_pts) == len(truth)  # one point per distinct front value
    np.testing.assert_allclose(pts[flat], front_pts)  # flat indices name the networks
    assert np.all(np.diff(front_pts[:, 1]) > 0) and np.all(np.diff(front_pts[:, 0]) < 0)
    ref = [pts[:, 0].max() + 1, pts[:, 1].max() + 1]
    assert hypervolume_2d(front_pts, ref) == pytest.approx(hypervolume_2d(pts, ref))


def test_flat_indices_follow_the_enumerator() -> None:
    space = SearchSpace.of(archc.parse("""
arch t { width 4 encoder e1: naf  middle m: naf  decoder d1: naf }
search over t { candidates *: naf | dsconv | identity  exclude e1: dsconv }
"""))
    obj = _random_objective(7, space.radices, 2, False)
    pts = obj.points(obj.rows(0, obj.size))
    for flat in range(space.size):
        idx = space.indices_at(flat)
        assert tuple(obj.rows(flat, flat + 1)[0]) == idx
        assert obj(idx) == {"psnr_drop": pytest.approx(pts[flat, 0]), "latency_ms": pytest.approx(pts[flat, 1])}


def test_json_round_trip_and_sweep_by_hand() -> None:
    obj = _random_objective(3, (3, 2, 4), 2, False)
    back = SeparableObjective.from_json(obj.to_json())
    np.testing.assert_array_equal(back.points(back.rows(0, back.size)), obj.points(obj.rows(0, obj.size)))
    pts = np.array([[0.0, 10.0], [1.0, 4.0], [3.0, 3.0], [2.0, 8.0], [1.0, 4.0], [3.0, 5.0]])
    assert sweep_front(pts).tolist() == [2, 1, 0]
