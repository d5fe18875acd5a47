"""The search loop shared by every strategy: propose, deduplicate, evaluate, journal.

Strategies only propose candidate index tuples from the one enumerator (`SearchSpace`); the
engine guarantees that a network (by canonical string) is evaluated at most once, that every
evaluation is journaled as it completes, and that a resumed run continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from archc.compiler.space import SearchSpace

from .journal import Evaluation, Journal

Indices = tuple[int, ...]
Objectives = dict[str, float]


Evaluator = Callable[[Indices], Objectives]


class Strategy(Protocol):
    name: str

    def propose(self, history: Sequence[Evaluation], n: int) -> list[Indices]: ...


def _fill_random(space: SearchSpace, seen: set[Indices], n: int, seed: int) -> list[Indices]:
    """Unseen random proposals, used when a strategy returns only networks already evaluated."""
    rng = np.random.default_rng([seed, len(seen), 99])
    return space.sample(rng, n, exclude=seen)


def run_search(space: SearchSpace, evaluate: Evaluator, strategy: Strategy, budget: int, journal: Journal,
               batch: int = 1, seed: int = 0,
               on_eval: Callable[[Evaluation], None] | None = None) -> list[Evaluation]:
    """Evaluate up to `budget` distinct networks; returns the whole history (resumed + new)."""
    history = journal.load()
    seen = {e.indices for e in history}
    by_canonical = {e.canonical for e in history}
    budget = min(budget, space.size)
    while len(history) < budget:
        want = min(batch, budget - len(history))
        proposals = [p for p in strategy.propose(history, want) if tuple(p) not in seen][:want]
        if not proposals:
            proposals = _fill_random(space, seen, want, seed)
        for idx in proposals:
            idx = tuple(int(i) for i in idx)
            canonical = space.canonical(space.decode(idx))
            if idx in seen or canonical in by_canonical:
                continue
            t0 = time.perf_counter()
            objectives = evaluate(idx)
            ev = Evaluation(canonical, idx, objectives, time.perf_counter() - t0, strategy.name, len(history))
            journal.append(ev)
            history.append(ev)
            seen.add(idx)
            by_canonical.add(canonical)
            if on_eval is not None:
                on_eval(ev)
    return history
