"""Multi-objective TPE through Optuna's `TPESampler`: the other peer a user would reach for.

Documented choices:
- One categorical parameter per slot (the candidate index), so every proposal comes from the
  one enumerator; repeats are answered from the journal (`optuna_study.py`).
- `multivariate=True` (a joint Parzen estimator over the slots, not one per slot) and
  `constant_liar=True`, so a batch of n proposals asked before any is evaluated spreads out
  instead of repeating the same best guess.
- `n_startup_trials` random trials first (default max(10, 2 x slots), the BoTorch strategy's
  initial design size or more), then TPE.
- Seeded: the same seed and history give the same proposals.
"""

from __future__ import annotations

import optuna

from archc.compiler.space import SearchSpace

from .optuna_study import OptunaStrategy


class TPEStrategy(OptunaStrategy):
    name = "tpe"

    def __init__(self, space: SearchSpace, seed: int = 0, n_startup: int | None = None) -> None:
        n_startup = n_startup if n_startup is not None else max(10, 2 * len(space.slots))
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup, multivariate=True,
                                             constant_liar=True)
        super().__init__(space, sampler)
