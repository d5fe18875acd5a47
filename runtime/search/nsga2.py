"""NSGA-II through Optuna's sampler: the peer a user would otherwise reach for.

It runs through the same evaluation path as every strategy: it only proposes. A proposal of a
network already evaluated is answered from the journal (never re-evaluated) and Optuna is asked
again. On resume the journal is replayed into the study as completed trials.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from optuna.distributions import BaseDistribution

from archc.compiler.space import SearchSpace

from .journal import Evaluation

OBJECTIVES = ("psnr_drop", "latency_ms")


class NSGA2Strategy:
    name = "nsga2"

    def __init__(self, space: SearchSpace, seed: int = 0, population_size: int = 20) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        self.dists: dict[str, BaseDistribution] = {
            f"s{i}": optuna.distributions.CategoricalDistribution(list(range(len(s.candidates))))
            for i, s in enumerate(space.slots)
        }
        sampler = optuna.samplers.NSGAIISampler(population_size=population_size, seed=seed)
        self.study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
        self.pending: dict[tuple[int, ...], optuna.trial.Trial] = {}
        self.told: set[tuple[int, ...]] = set()

    def _values(self, ev: Evaluation) -> list[float]:
        return [ev.objectives[k] for k in OBJECTIVES]

    def _sync(self, history: Sequence[Evaluation]) -> None:
        for ev in history:
            if ev.indices in self.told:
                continue
            trial = self.pending.pop(ev.indices, None)
            if trial is not None:
                self.study.tell(trial, self._values(ev))
            else:
                params = {f"s{i}": int(v) for i, v in enumerate(ev.indices)}
                self.study.add_trial(optuna.trial.create_trial(params=params, distributions=self.dists,
                                                               values=self._values(ev)))
            self.told.add(ev.indices)

    def propose(self, history: Sequence[Evaluation], n: int) -> list[tuple[int, ...]]:
        self._sync(history)
        known = {e.indices: e for e in history}
        out: list[tuple[int, ...]] = []
        for _ in range(100 * n):
            if len(out) >= n:
                break
            trial = self.study.ask(self.dists)
            idx = tuple(int(trial.params[f"s{i}"]) for i in range(len(self.space.slots)))
            if idx in known:
                self.study.tell(trial, self._values(known[idx]))
            elif idx in out or idx in self.pending:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                self.pending[idx] = trial
                out.append(idx)
        return out
