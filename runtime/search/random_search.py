"""Random search: uniform over the unevaluated networks of the space (the baseline first)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archc.compiler.space import SearchSpace

from .journal import Evaluation


class RandomStrategy:
    name = "random"

    def __init__(self, space: SearchSpace, seed: int = 0, baseline_first: bool = True) -> None:
        self.space = space
        self.seed = seed
        self.baseline_first = baseline_first

    def propose(self, history: Sequence[Evaluation], n: int) -> list[tuple[int, ...]]:
        seen = {e.indices for e in history}
        base = (0,) * len(self.space.radices)
        out: list[tuple[int, ...]] = []
        if self.baseline_first and base not in seen:
            out.append(base)
            seen.add(base)
        rng = np.random.default_rng([self.seed, len(history)])
        return out + self.space.sample(rng, n - len(out), exclude=seen)
