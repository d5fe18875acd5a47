"""One search run: resolve the space, set up objectives and a strategy, run, write the results."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import field, frozen

from archc.compiler.choice import canonical_choice
from archc.compiler.files import write_text_atomic
from archc.compiler.space import SearchSpace
from archc.dsl.spec import Spec
from archc.errors import SearchError
from archc.runtime.cluster import Executor

from .additive import AdditiveModel, Unavailable
from .bo import BoTorchStrategy
from .engine import Strategy, run_search
from .journal import Evaluation, Journal
from .nsga2 import NSGA2Strategy
from .random_search import RandomStrategy
from .report import default_reference, plot_front, summarise
from .tpe import TPEStrategy

# botorch: from the additive prediction (today's random design when a space has none);
# botorch-random: the random initial design and no prediction, for comparison;
# additive: the prediction alone (the teacher and networks spread along its front, no model).
STRATEGIES = ("botorch", "botorch-random", "additive", "random", "nsga2", "tpe")
JOURNAL, RESULTS, PLOT = "journal.jsonl", "search.json", "front.png"


@frozen
class SearchSetup:
    spec: Spec
    space: SearchSpace
    objectives: Callable[[tuple[int, ...]], dict[str, float]]
    latency_rows: Callable[[np.ndarray], np.ndarray] | None  # exact latency for BO, when predicted
    latency_source: str  # "modelled" | "measured" | "predicted from measured block table"
    device: str
    meta: dict[str, Any] = field(factory=dict)
    prior: AdditiveModel | Unavailable | None = None  # the additive prediction, or why there is none

    @property
    def additive(self) -> AdditiveModel | None:
        return self.prior if isinstance(self.prior, AdditiveModel) else None


def fallback_note(setup: SearchSetup, strategy: str) -> str | None:
    """Why `strategy` cannot start from the additive prediction (None when it can or need not)."""
    if strategy != "botorch" or setup.additive is not None:
        return None
    why = setup.prior.note if isinstance(setup.prior, Unavailable) else "no plug-in report was given"
    return f"no additive prediction ({why}): BoTorch starts from a random initial design"


def make_strategy(name: str, setup: SearchSetup, seed: int, budget: int, max_latency: float | None,
                  max_drop: float | None) -> Strategy:
    if name == "random":
        return RandomStrategy(setup.space, seed)
    if name == "nsga2":
        return NSGA2Strategy(setup.space, seed, population_size=int(np.clip(budget // 4, 8, 50)))
    if name == "tpe":
        return TPEStrategy(setup.space, seed)
    if name in ("botorch", "botorch-random"):
        prior = setup.additive if name == "botorch" else None
        return BoTorchStrategy(setup.space, seed, latency=setup.latency_rows, max_latency=max_latency,
                               max_drop=max_drop, prior=prior, name=name)
    if name == "additive":
        if setup.additive is None:
            raise SearchError("the `additive` strategy needs the distill stage's plug-in report", code="E0715",
                              help=fallback_note(setup, "botorch") or "run `archc distill` with its report")
        return BoTorchStrategy(setup.space, seed, prior=setup.additive, n_init=budget, name="additive")
    raise SearchError(f"unknown strategy `{name}`", code="E0710", help=f"use one of {', '.join(STRATEGIES)}")


def _choice_json(space: SearchSpace, indices: tuple[int, ...]) -> dict[str, Any]:
    """`choice` (slot -> block), and in a precision space `precisions` (slot -> precision)."""
    out: dict[str, Any] = {"choice": {k: b.canonical for k, b in space.decode(indices).items()}}
    if space.has_precision:
        out["precisions"] = space.precisions_of(indices)
    return out


def _additive_json(setup: SearchSetup, ev: Evaluation) -> dict[str, Any]:
    """The additive prediction of one scored network (nothing without a prediction)."""
    if setup.additive is None:
        return {}
    drop, lat = setup.additive.predict([ev.indices])[0]
    return {"additive": {"psnr_drop": float(drop), "latency_ms": float(lat)}}


def _design_json(setup: SearchSetup, strategy: str, journal: Journal) -> dict[str, Any]:
    """How the search started, the prediction's front and how well it predicted the scored drops."""
    model = setup.additive
    out: dict[str, Any] = {"additive_prediction": model is not None, "notes": journal.notes()}
    if model is None:
        return out
    pts, _ = model.front()
    scored = journal.load()
    pred = model.predict([e.indices for e in scored])[:, 0] if scored else np.zeros(0)
    got = np.array([e.psnr_drop for e in scored])
    corr = float(np.corrcoef(pred, got)[0, 1]) if len(got) > 2 and np.ptp(pred) > 0 and np.ptp(got) > 0 else None
    return {**out, "plugin_report": model.source, "additive_front": pts.tolist(),
            "additive_front_size": len(pts), "prediction_correlation": corr}


def _baseline(history: Sequence[Evaluation]) -> Evaluation | None:
    return next((e for e in history if not any(e.indices)), None)


def run(setup: SearchSetup, out: Path, strategy: str = "botorch", budget: int = 100, seed: int = 0,
        batch: int = 1, budgets_ms: Sequence[float] = (), max_latency: float | None = None,
        max_drop: float | None = None, on_eval: Callable[[Evaluation], None] | None = None,
        executor: Executor | None = None) -> dict[str, Any]:
    """Run (or resume) a search into `out`, `batch` proposals per round evaluated on `executor`
    (default: this process); returns the search.json content."""
    out.mkdir(parents=True, exist_ok=True)
    strat = make_strategy(strategy, setup, seed, budget, max_latency, max_drop)
    journal = Journal(out / JOURNAL)
    if note := fallback_note(setup, strategy):
        journal.note(note)
    history = run_search(setup.space, setup.objectives, strat, budget, journal, batch, seed, on_eval, executor)
    baseline = _baseline(history)
    ref = default_reference(history, baseline)
    budgets = sorted({*budgets_ms, *([max_latency] if max_latency else [])})
    results = {
        "spec": setup.spec.path, "spec_text": setup.spec.text, "device": setup.device,
        "latency_source": setup.latency_source, "strategy": strategy, "seed": seed, "budget": budget, "batch": batch,
        "space": {"slots": [s.name for s in setup.space.slots], "excluded": list(setup.space.excluded),
                  "size": setup.space.size},
        "constraints": {"max_latency_ms": max_latency, "max_psnr_drop": max_drop},
        **setup.meta,
        "evaluations": [{**e.to_json(), **_choice_json(setup.space, e.indices), **_additive_json(setup, e)}
                        for e in history],
        **summarise(history, ref, budgets, baseline),
        "initial_design": _design_json(setup, strategy, journal),
    }
    results["baseline_canonical"] = canonical_choice(setup.spec, {})
    write_text_atomic(out / RESULTS, json.dumps(results, indent=1) + "\n")
    label = f"latency on {setup.device} ({setup.meta.get('latency_unit', 'ms')}, {setup.latency_source})"
    plot_front(history, results, out / PLOT, f"{setup.spec.name}: {strategy}, {len(history)} networks", label)
    return results
