"""The additive prediction: its front against exhaustive enumeration, its initial design, the
residual model in BoTorch, origins in the journal, the fallback without a plug-in report, and
determinism for a seed."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import archc
from archc.compiler.space import SearchSpace
from archc.runtime.search.additive import AdditiveModel, Unavailable, load, plugin_drops, spread
from archc.runtime.search.bo import BoTorchStrategy
from archc.runtime.search.engine import run_search
from archc.runtime.search.exact import SeparableObjective, exact_front
from archc.runtime.search.journal import Journal
from archc.runtime.search.pareto import non_dominated
from archc.runtime.search.run import SearchSetup, run

SPEC = """
arch toy { width 4
  encoder e1: naf  encoder e2: naf  middle m: naf  decoder d2: naf  decoder d1: naf }
search over toy { candidates *: naf | naf(sca=off) | dsconv | identity
  exclude e1: dsconv }
"""
PRECISION_SPEC = """
arch toy { width 4
  encoder e1: naf  middle m: naf  decoder d1: naf }
search over toy { candidates *: naf | dsconv | identity
  precision *: w8a8 | w8a16 }
"""


def _space(text: str = SPEC) -> SearchSpace:
    return SearchSpace.of(archc.parse(text))


def _model(space: SearchSpace, seed: int) -> AdditiveModel:
    """Random per-slot terms: originals cost 0 dB; latency terms per precision when searched."""
    rng = np.random.default_rng(seed)
    m, k = len(space.slots), max(len(s.candidates) for s in space.slots)
    p = max(1, max(len(s.precisions) for s in space.slots))
    drop = np.abs(rng.normal(size=(m, k)))
    drop[:, 0] = 0.0
    lat = -np.abs(rng.normal(size=(m, k, p))) * 3
    lat[:, 0, 0] = 0.0
    return AdditiveModel(space, drop, lat, 40.0)


def _all_rows(space: SearchSpace) -> np.ndarray:
    return np.array(list(itertools.product(*[range(r) for r in space.radices])))


def _brute_points(model: AdditiveModel, rows: np.ndarray) -> np.ndarray:
    """Plain Python sums over every network (independent of `predict` and of the front merge)."""
    m = model.slots
    out = []
    for r in rows:
        prec = r[m:] if model.space.has_precision else [0] * m
        out.append(
            [
                sum(model.drop[i, r[i]] for i in range(m)),
                model.latency_base + sum(model.latency[i, r[i], prec[i]] for i in range(m)),
            ]
        )
    return np.array(out)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("text", [SPEC, PRECISION_SPEC], ids=["blocks", "blocks+precision"])
def test_the_front_merge_equals_exhaustive_enumeration(seed: int, text: str) -> None:
    space = _space(text)
    model = _model(space, seed)
    front, rows = model.front()
    every = _all_rows(space)
    truth = _brute_points(model, every)
    assert {tuple(p) for p in np.round(front, 9)} == {tuple(p) for p in np.round(truth[non_dominated(truth)], 9)}
    np.testing.assert_allclose(_brute_points(model, rows), front)  # the rows name networks with those values
    assert np.all(np.diff(front[:, 1]) > 0) and np.all(np.diff(front[:, 0]) < 0)  # fastest first, one per value


def test_the_front_merge_equals_the_chunked_exhaustive_front() -> None:
    space = _space()
    model = _model(space, 7)
    m = model.slots
    exhaustive = SeparableObjective(space.radices, model.latency[:, :, 0], model.drop, (), model.latency_base, 0.0)
    pts, _ = exact_front(exhaustive, chunk=17)
    front, _ = model.front()
    np.testing.assert_allclose(front, pts)
    assert m == 5


def test_the_additive_initial_design_covers_drops_from_zero_upward() -> None:
    space = _space()
    model = _model(space, 3)
    strat = BoTorchStrategy(space, 0, prior=model, n_init=8)
    design = strat.initial_design()
    rows = [d for d, _ in design]
    assert rows[0] == (0,) * len(space.radices) and design[0][1] == "initial-teacher"
    assert [o for _, o in design[1:]] == ["initial-additive"] * 7
    predicted = model.predict(rows)
    front, _ = model.front()
    top = min(2.0, front[:, 0].max())
    drops = np.sort(predicted[:, 0])
    assert drops[0] == 0.0 and drops[-1] >= 0.9 * top  # from the teacher up to the cap
    assert np.all(np.diff(drops) > 0)  # distinct points of the front
    assert np.diff(np.concatenate([[0.0], drops])).max() <= 0.5 * top  # no gap over half the range
    on_front = {tuple(p) for p in np.round(front, 9)}
    assert all(tuple(p) in on_front for p in np.round(predicted[1:], 9))


def test_spread_is_denser_near_zero() -> None:
    front = np.stack([np.linspace(0, 4, 161), np.linspace(50, 10, 161)], axis=1)  # drops 0.025 apart
    picked = front[spread(front, 4, cap=2.0), 0]
    np.testing.assert_allclose(picked, [0.125, 0.5, 1.125, 2.0])  # 2 x (j / 4)^2


def _objective(model: AdditiveModel):  # type: ignore[no-untyped-def]
    """A quality the prediction gets partly wrong: 1.3x the plug-in sum plus an interaction."""

    def f(idx: tuple[int, ...]) -> dict[str, float]:
        drop, lat = model.predict([idx])[0]
        return {"psnr_drop": float(1.3 * drop + 0.4 * (idx[0] > 0) * (idx[1] > 0)), "latency_ms": float(lat)}

    return f


def _latency(model: AdditiveModel):  # type: ignore[no-untyped-def]
    return lambda rows: model.predict(rows)[:, 1]


def test_botorch_records_origins_and_a_seed_repeats_its_journal(tmp_path: Path) -> None:
    space = _space()
    model = _model(space, 5)
    journals = []
    for k in range(2):
        strat = BoTorchStrategy(space, 3, latency=_latency(model), prior=model, n_init=5)
        history = run_search(space, _objective(model), strat, 9, Journal(tmp_path / f"{k}.jsonl"))
        journals.append([(e.canonical, e.origin, e.objectives) for e in history])
    assert journals[0] == journals[1]
    origins = [o for _, o, _ in journals[0]]
    assert origins[0] == "initial-teacher" and set(origins[1:5]) == {"initial-additive"}
    assert all(o.startswith("bo") for o in origins[5:])
    reloaded = Journal(tmp_path / "0.jsonl").load()
    assert [e.origin for e in reloaded] == origins


def _setup(space: SearchSpace, prior: AdditiveModel | Unavailable | None, model: AdditiveModel) -> SearchSetup:
    return SearchSetup(space.spec, space, _objective(model), _latency(model), "modelled", "toy", {}, prior)


def test_without_a_plugin_report_botorch_falls_back_with_a_note(tmp_path: Path) -> None:
    space = _space()
    model = _model(space, 2)
    missing = load(space, tmp_path / "nowhere" / "distill.json", 40.0, model.latency[:, :, 0])
    assert isinstance(missing, Unavailable)
    results = run(_setup(space, missing, model), tmp_path / "s", "botorch", budget=6, seed=0)
    notes = results["initial_design"]["notes"]
    assert len(notes) == 1 and "no plug-in report" in notes[0] and "random initial design" in notes[0]
    assert Journal(tmp_path / "s" / "journal.jsonl").notes() == notes
    origins = [e["origin"] for e in results["evaluations"]]
    assert origins[0] == "initial-teacher" and set(origins[1:]) == {"initial-random"}
    assert "additive" not in results["evaluations"][0]


def test_a_distill_run_without_training_is_no_plugin_report() -> None:
    space = _space()
    got = plugin_drops(space, {"config": {"iters": 0}, "surrogates": []})
    assert isinstance(got, Unavailable) and "--iters 0" in got.note


def test_plugin_drops_are_read_per_slot_and_candidate(tmp_path: Path) -> None:
    space = _space()
    rows = [
        {"slot": s.name, "candidate": c.canonical, "plug_in_drop": 0.1 * i + 0.01 * j}
        for i, s in enumerate(space.slots)
        for j, c in enumerate(space.slots[i].candidates)
        if j > 0
    ]
    report = tmp_path / "distill.json"
    report.write_text(json.dumps({"config": {"iters": 5}, "surrogates": rows}))
    model = load(space, report, 40.0, np.zeros((len(space.slots), 4)))
    assert isinstance(model, AdditiveModel)
    for i, s in enumerate(space.slots):
        for j in range(len(s.candidates)):
            assert model.drop[i, j] == pytest.approx(0.0 if j == 0 else 0.1 * i + 0.01 * j)
    report.write_text(json.dumps({"config": {"iters": 5}, "surrogates": rows[1:]}))
    lacking = load(space, report, 40.0, np.zeros((len(space.slots), 4)))
    assert isinstance(lacking, Unavailable) and "lacks 1 swaps" in lacking.note


def test_search_json_shows_the_prediction_beside_each_network(tmp_path: Path) -> None:
    space = _space()
    model = _model(space, 4)
    results = run(_setup(space, model, model), tmp_path / "s", "additive", budget=6, seed=0)
    for e in results["evaluations"]:
        drop, lat = model.predict([e["indices"]])[0]
        assert e["additive"] == pytest.approx({"psnr_drop": drop, "latency_ms": lat})
        assert e["objectives"]["psnr_drop"] == pytest.approx(
            1.3 * drop + 0.4 * (e["indices"][0] > 0) * (e["indices"][1] > 0)
        )
    design = results["initial_design"]
    assert design["additive_prediction"] and design["notes"] == []
    assert design["prediction_correlation"] > 0.5
    assert set(results["speedup_within"]) == {"0.1", "0.2", "0.3", "0.5"}
    assert (tmp_path / "s" / "front.png").is_file()
