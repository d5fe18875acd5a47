"""Ask-and-tell over an Optuna study: the shared part of every strategy driven by an Optuna sampler.

The strategy only proposes. Each proposal is a trial asked of the study with one categorical
parameter per slot (`s0`, `s1`, ...: the candidate index), so it is always a valid index tuple of
the one enumerator (`SearchSpace`). A trial that lands on a network already evaluated is told the
journaled objectives (never re-evaluated) and the study is asked again; one that repeats a
proposal still pending is told FAIL. Evaluations the study has not seen (a resumed journal, or
networks proposed by another strategy) are added as completed trials.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution

from archc.compiler.space import SearchSpace

from .journal import Evaluation

OBJECTIVES = ("psnr_drop", "latency_ms")
ASKS_PER_PROPOSAL = 100  # give up (and let the engine fill with random networks) after this many repeats


class OptunaStrategy:
    name = "optuna"

    def __init__(self, space: SearchSpace, sampler: optuna.samplers.BaseSampler) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        self.dists: dict[str, BaseDistribution] = {
            f"s{i}": CategoricalDistribution(list(range(r))) for i, r in enumerate(space.radices)
        }
        self.study = optuna.create_study(directions=["minimize"] * len(OBJECTIVES), sampler=sampler)
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
        """Up to `n` distinct networks, none evaluated or pending yet."""
        self._sync(history)
        known = {e.indices: e for e in history}
        out: list[tuple[int, ...]] = []
        for _ in range(ASKS_PER_PROPOSAL * n):
            if len(out) >= n:
                break
            trial = self.study.ask(self.dists)
            idx = tuple(int(trial.params[f"s{i}"]) for i in range(len(self.space.radices)))
            if idx in known:
                self.study.tell(trial, self._values(known[idx]))
            elif idx in out or idx in self.pending:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                self.pending[idx] = trial
                out.append(idx)
        return out
