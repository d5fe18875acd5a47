"""The one enumerator of a search space: searchable slots x their candidates, minus exclusions.

Every strategy (exhaustive, random, NSGA-II, BoTorch) draws from here, so an excluded slot or
candidate can never be evaluated. A choice is indexed by mixed radix over the slots, in network
order; its canonical string (`compiler.choice.canonical_choice`) names it in caches and journals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
from attrs import frozen

from archc.dsl.spec import Block, Slot, Spec
from archc.errors import SearchError

from .choice import canonical_choice


@frozen
class SearchSpace:
    spec: Spec
    slots: tuple[Slot, ...]  # searchable, in network order
    excluded: tuple[str, ...] = ()  # slots fixed at their original block (static + resolved saliency)

    @classmethod
    def of(cls, spec: Spec, exclude: Iterable[str] = ()) -> SearchSpace:
        """The space of `spec`, with extra slots `exclude`d (e.g. resolved `exclude top K by ...`)."""
        if spec.search is None:
            raise SearchError(f"`{spec.name}` has no search part", code="E0701",
                              help=f"add `search over {spec.name} {{ candidates *: ... }}` to the spec")
        extra = set(exclude)
        unknown = extra - {s.name for s in (*spec.search.slots, *spec.search.fixed)}
        if unknown:
            raise SearchError(f"cannot exclude unknown slot(s): {', '.join(sorted(unknown))}", code="E0702")
        slots = tuple(s for s in spec.search.slots if s.name not in extra)
        if not slots:
            raise SearchError("every slot is excluded: nothing is left to search", code="E0703")
        excluded = tuple(s.name for s in spec.search.fixed) + tuple(sorted(extra))
        return cls(spec, slots, excluded)

    @property
    def radices(self) -> tuple[int, ...]:
        return tuple(len(s.candidates) for s in self.slots)

    @property
    def size(self) -> int:
        return math.prod(self.radices)

    def decode(self, indices: Sequence[int]) -> dict[str, Block]:
        """Per-slot candidate indices -> choice (slot name -> block)."""
        if len(indices) != len(self.slots):
            raise SearchError(f"expected {len(self.slots)} indices, got {len(indices)}", code="E0704")
        out = {}
        for slot, i in zip(self.slots, indices, strict=True):
            if not 0 <= int(i) < len(slot.candidates):
                raise SearchError(f"index {i} out of range for slot `{slot.name}`", code="E0705")
            out[slot.name] = slot.candidates[int(i)]
        return out

    def encode(self, choice: Mapping[str, Block]) -> tuple[int, ...]:
        """Choice -> per-slot indices; slots missing from `choice` hold their original (index 0)."""
        unknown = set(choice) - {s.name for s in self.slots}
        if unknown:
            raise SearchError(f"not searchable slot(s) in this space: {', '.join(sorted(unknown))}", code="E0706")
        out = []
        for slot in self.slots:
            block = choice.get(slot.name, slot.original)
            names = [c.canonical for c in slot.candidates]
            if block.canonical not in names:
                raise SearchError(f"`{block.canonical}` is not a candidate of slot `{slot.name}`", code="E0707")
            out.append(names.index(block.canonical))
        return tuple(out)

    def index_of(self, indices: Sequence[int]) -> int:
        flat = 0
        for i, r in zip(indices, self.radices, strict=True):
            flat = flat * r + int(i)
        return flat

    def indices_at(self, flat: int) -> tuple[int, ...]:
        if not 0 <= flat < self.size:
            raise SearchError(f"network index {flat} out of range (0..{self.size - 1})", code="E0708")
        out = []
        for r in reversed(self.radices):
            flat, i = divmod(flat, r)
            out.append(i)
        return tuple(reversed(out))

    def __iter__(self) -> Iterator[dict[str, Block]]:
        for flat in range(self.size):
            yield self.decode(self.indices_at(flat))

    def baseline(self) -> dict[str, Block]:
        return self.decode((0,) * len(self.slots))

    def canonical(self, choice: Mapping[str, Block]) -> str:
        return canonical_choice(self.spec, choice)

    def sample(self, rng: np.random.Generator, n: int, exclude: Iterable[Sequence[int]] = ()) -> list[tuple[int, ...]]:
        """`n` distinct index tuples drawn uniformly, none of them in `exclude`."""
        seen = {tuple(int(i) for i in e) for e in exclude}
        n = min(n, self.size - len(seen))
        out: list[tuple[int, ...]] = []
        while len(out) < n:
            idx = tuple(int(rng.integers(r)) for r in self.radices)
            if idx not in seen:
                seen.add(idx)
                out.append(idx)
        return out

    def one_hot(self, indices: Sequence[Sequence[int]]) -> np.ndarray:
        """`n x sum(radices)` one-hot encoding of index tuples (the GP's input space)."""
        offsets = np.cumsum((0, *self.radices[:-1]))
        arr = np.zeros((len(indices), sum(self.radices)))
        for row, idx in enumerate(indices):
            arr[row, offsets + np.asarray(idx, dtype=int)] = 1.0
        return arr
