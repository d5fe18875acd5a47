"""The search loop shared by every strategy: propose, deduplicate, evaluate, journal.

Strategies only propose candidate index tuples from the one enumerator (`SearchSpace`); the
engine guarantees that a network (by canonical string) is evaluated at most once, that every
evaluation is journaled as it completes, and that a resumed run continues where it stopped.

A round asks the strategy for `batch` proposals (q in BoTorch's terms) and evaluates them
together: in this process, or in parallel on an execution backend (`archc.runtime.cluster`).
Each proposal's place in the search (`order`) is fixed when it is proposed, not when it finishes,
so the journal of a seed is the same whatever ran it; a killed round keeps what had finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from archc.compiler.space import SearchSpace
from archc.runtime.cluster import Executor, WorkerSetup
from archc.runtime.cluster.local import InlineExecutor

from .journal import Evaluation, Journal

Indices = tuple[int, ...]
Objectives = dict[str, float]


Evaluator = Callable[[Indices], Objectives]


class Strategy(Protocol):
    name: str

    def propose(self, history: Sequence[Evaluation], n: int) -> list[Indices]: ...


def origin_of(strategy: Strategy, idx: Indices) -> str:
    """Where `strategy` says its proposal `idx` came from (its name when it does not say)."""
    origin = getattr(strategy, "origin", None)
    return str(origin(idx)) if callable(origin) else strategy.name


def _fill_random(space: SearchSpace, seen: set[Indices], n: int, seed: int) -> list[Indices]:
    """Unseen random proposals, used when a strategy returns only networks already evaluated."""
    rng = np.random.default_rng([seed, len(seen), 99])
    return space.sample(rng, n, exclude=seen)


def evaluate_item(evaluate: Evaluator, idx: Indices) -> tuple[Objectives, float]:
    """One network's objectives and the seconds they took (the work function of every backend)."""
    t0 = time.perf_counter()
    objectives = evaluate(idx)
    return objectives, time.perf_counter() - t0


def _fresh(space: SearchSpace, proposals: Sequence[Indices], seen: set[Indices], known: set[str],
           want: int) -> list[tuple[Indices, str]]:
    """The first `want` proposals whose network (by canonical string) is new, without repeats."""
    out: list[tuple[Indices, str]] = []
    for p in proposals:
        idx = tuple(int(i) for i in p)
        canonical = space.canonical_of(idx)
        if idx in seen or canonical in known or any(canonical == c for _, c in out):
            continue
        out.append((idx, canonical))
        if len(out) == want:
            break
    return out


def _next_order(history: Sequence[Evaluation]) -> int:
    return max((e.order for e in history), default=-1) + 1


def run_search(space: SearchSpace, evaluate: Evaluator, strategy: Strategy, budget: int, journal: Journal,
               batch: int = 1, seed: int = 0, on_eval: Callable[[Evaluation], None] | None = None,
               executor: Executor | None = None) -> list[Evaluation]:
    """Evaluate up to `budget` distinct networks, `batch` per round on `executor` (default: one
    after another in this process); returns the whole history (resumed + new) in search order."""
    history = journal.load()
    seen = {e.indices for e in history}
    by_canonical = {e.canonical for e in history}
    budget = min(budget, space.size)
    runner = executor or InlineExecutor(WorkerSetup(threads=torch.get_num_threads()))
    while len(history) < budget:
        want = min(batch, budget - len(history))
        todo = _fresh(space, strategy.propose(history, want), seen, by_canonical, want)
        origins = [origin_of(strategy, idx) for idx, _ in todo]
        if not todo:
            todo = _fresh(space, _fill_random(space, seen, want, seed), seen, by_canonical, want)
            origins = ["fill-random"] * len(todo)
        if not todo:
            break
        first = _next_order(history)
        done = _evaluate_round(runner, evaluate, todo, origins, first, strategy.name, journal, on_eval)
        history.extend(sorted(done, key=lambda e: e.order))
        seen.update(e.indices for e in done)
        by_canonical.update(e.canonical for e in done)
    return history


def _evaluate_round(executor: Executor, evaluate: Evaluator, todo: Sequence[tuple[Indices, str]],
                    origins: Sequence[str], first: int, strategy: str, journal: Journal,
                    on_eval: Callable[[Evaluation], None] | None) -> list[Evaluation]:
    done: list[Evaluation] = []
    items = [idx for idx, _ in todo]
    result: Any
    for i, result in executor.map_unordered(evaluate_item, items, shared=evaluate):
        objectives, seconds = result
        ev = Evaluation(todo[i][1], todo[i][0], objectives, seconds, strategy, first + i, origins[i])
        journal.append(ev)
        done.append(ev)
        if on_eval is not None:
            on_eval(ev)
    return done
