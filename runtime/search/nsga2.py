"""NSGA-II through Optuna's sampler: the peer a user would otherwise reach for.

It runs through the same evaluation path as every strategy: it only proposes (`optuna_study.py`:
a repeat is answered from the journal, never re-evaluated; on resume the journal is replayed into
the study as completed trials).
"""

from __future__ import annotations

import optuna

from archc.compiler.space import SearchSpace

from .optuna_study import OptunaStrategy


class NSGA2Strategy(OptunaStrategy):
    name = "nsga2"

    def __init__(self, space: SearchSpace, seed: int = 0, population_size: int = 20) -> None:
        super().__init__(space, optuna.samplers.NSGAIISampler(population_size=population_size, seed=seed))
