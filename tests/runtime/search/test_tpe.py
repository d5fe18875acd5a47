"""Optuna's multi-objective TPE as a search strategy: valid, distinct, seeded proposals."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import archc
from archc.compiler.space import SearchSpace
from archc.runtime.search.engine import run_search
from archc.runtime.search.journal import Evaluation, Journal
from archc.runtime.search.tpe import TPEStrategy

BLOCKS = ["naf(sca=off)", "naf_relu", "dsconv", "mbconv(expand=2)", "identity"]
STAGES = ["enc1", "enc2", "mid", "dec2", "dec1"]


def _space(candidates: list[str], excluded: list[str], pairs: list[tuple[str, str]]) -> SearchSpace:
    lines = [f"exclude {s}" for s in excluded] + [f"exclude {s}: {b}" for s, b in pairs]
    return SearchSpace.of(archc.parse(f"""
arch t {{ width 4
  encoder enc1: naf  encoder enc2: naf  middle mid: naf  decoder dec2: naf  decoder dec1: naf }}
search over t {{ candidates *: naf | {' | '.join(candidates)}
  {chr(10).join(lines)} }}
"""))


@st.composite
def spaces(draw):  # type: ignore[no-untyped-def]
    cands = draw(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=3, unique=True))
    excluded = draw(st.lists(st.sampled_from(STAGES), max_size=3, unique=True))
    free = [s for s in STAGES if s not in excluded]
    pairs = draw(st.lists(st.tuples(st.sampled_from(free), st.sampled_from(cands)), max_size=3, unique=True))
    return cands, excluded, pairs


def objectives(idx: tuple[int, ...]) -> dict[str, float]:
    """Conflicting objectives: higher indices are faster and worse."""
    a = np.asarray(idx, dtype=float)
    return {"psnr_drop": float((a**2).sum() + 0.1 * a[0] * a[-1]), "latency_ms": float(50 - 3 * a.sum())}


@settings(max_examples=12, deadline=None)
@given(spaces(), st.integers(0, 2**16), st.integers(1, 4))
def test_tpe_never_proposes_an_excluded_or_repeated_network(space_def, seed, batch) -> None:  # type: ignore[no-untyped-def]
    space = _space(*space_def)
    _, excluded, pairs = space_def
    strat = TPEStrategy(space, seed, n_startup=3)
    history: list[Evaluation] = []
    allowed = {space.indices_at(i) for i in range(space.size)}
    for _ in range(4):
        proposals = strat.propose(history, batch)
        assert len(proposals) == len(set(proposals)) <= batch
        assert not set(proposals) & {e.indices for e in history}
        for idx in proposals:
            assert idx in allowed
            choice = space.decode(idx)
            assert not set(choice) & set(excluded)
            assert not {(s, b.canonical) for s, b in choice.items()} & set(pairs)
            history.append(Evaluation(space.canonical(choice), idx, objectives(idx), 0.0, "tpe", len(history)))


def _run(tmp_path, seed: int, batch: int, budget: int = 30) -> list[tuple[int, ...]]:  # type: ignore[no-untyped-def]
    space = _space(["naf_relu", "dsconv", "identity"], [], [])
    journal = Journal(tmp_path / f"tpe-{seed}-{batch}-{budget}-{len(list(tmp_path.iterdir()))}.jsonl")
    history = run_search(space, objectives, TPEStrategy(space, seed, n_startup=8), budget, journal, batch=batch)
    return [e.indices for e in history]


def test_tpe_is_deterministic_for_a_seed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert _run(tmp_path, 3, 1) == _run(tmp_path, 3, 1)
    assert _run(tmp_path, 3, 4) == _run(tmp_path, 3, 4)
    assert _run(tmp_path, 3, 1) != _run(tmp_path, 4, 1)


def test_tpe_in_the_engine_evaluates_distinct_networks_in_batches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for batch in (1, 4):
        got = _run(tmp_path, 0, batch)
        assert len(got) == 30 == len(set(got))


def test_tpe_exhausts_a_tiny_space_without_repeats(tmp_path) -> None:  # type: ignore[no-untyped-def]
    space = _space(["identity"], ["enc1", "enc2"], [])  # 2^3 networks
    history = run_search(space, objectives, TPEStrategy(space, 1, n_startup=2), 100, Journal(tmp_path / "j.jsonl"),
                         batch=3)
    assert sorted(e.indices for e in history) == [space.indices_at(i) for i in range(space.size)]


def test_tpe_resumes_from_a_journal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    space = _space(["naf_relu", "identity"], [], [])
    journal = Journal(tmp_path / "j.jsonl")
    first = run_search(space, objectives, TPEStrategy(space, 2, n_startup=4), 10, journal)
    resumed = run_search(space, objectives, TPEStrategy(space, 2, n_startup=4), 20, journal)
    assert resumed[:10] == first
    assert len({e.indices for e in resumed}) == 20
