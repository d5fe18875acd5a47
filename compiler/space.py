"""The one enumerator of a search space: searchable slots x their candidates, minus exclusions.

Every strategy (exhaustive, random, NSGA-II, BoTorch) draws from here, so an excluded slot or
candidate can never be evaluated. A choice is indexed by mixed radix over the slots, in network
order; its canonical string (`compiler.choice.canonical_choice`) names it in caches and journals.

When the search has a `precision` line, a network is a block AND a precision per slot: the index
tuple is the m block indices followed by the m precision indices (`slot.precisions`, fp16 = 0
first), so every strategy, which only sees radices, searches both; the canonical string names
each slot `slot=block@precision`. Without the line the space, its indices and its strings are
exactly what they were.
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
    def has_precision(self) -> bool:
        return any(s.precisions for s in self.slots)

    @property
    def radices(self) -> tuple[int, ...]:
        """Candidates per slot, then (in a precision space) precisions per slot."""
        blocks = tuple(len(s.candidates) for s in self.slots)
        return blocks + tuple(len(s.precisions) for s in self.slots) if self.has_precision else blocks

    @property
    def size(self) -> int:
        return math.prod(self.radices)

    def decode(self, indices: Sequence[int]) -> dict[str, Block]:
        """Index tuple -> choice (slot name -> block)."""
        self._check(indices)
        return {slot.name: slot.candidates[int(i)] for slot, i in zip(self.slots, indices, strict=False)}

    def precisions_of(self, indices: Sequence[int]) -> dict[str, str]:
        """Index tuple -> slot name -> precision (empty when precision is not searched)."""
        self._check(indices)
        if not self.has_precision:
            return {}
        rest = indices[len(self.slots):]
        return {slot.name: slot.precisions[int(i)] for slot, i in zip(self.slots, rest, strict=True)}

    def _check(self, indices: Sequence[int]) -> None:
        radices = self.radices
        if len(indices) != len(radices):
            raise SearchError(f"expected {len(radices)} indices, got {len(indices)}", code="E0704")
        m = len(self.slots)
        for k, (i, r) in enumerate(zip(indices, radices, strict=True)):
            if not 0 <= int(i) < r:
                what = "slot" if k < m else "the precision of slot"
                raise SearchError(f"index {i} out of range for {what} `{self.slots[k % m].name}`", code="E0705")

    def canonical_of(self, indices: Sequence[int]) -> str:
        """The canonical string of the network at `indices` (with its precisions in a precision space)."""
        precisions = self.precisions_of(indices) if self.has_precision else None
        return canonical_choice(self.spec, self.decode(indices), precisions)

    def encode(self, choice: Mapping[str, Block], precisions: Mapping[str, str] | None = None) -> tuple[int, ...]:
        """Choice (and precisions) -> index tuple; slots missing from `choice` hold their original
        (index 0), and from `precisions` fp16 (index 0)."""
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
        return tuple(out) + self._encode_precisions(precisions or {})

    def _encode_precisions(self, precisions: Mapping[str, str]) -> tuple[int, ...]:
        if not self.has_precision:
            if precisions:
                raise SearchError("this space does not search precision", code="E0709",
                                  help="add a `precision *: ...` line to the search")
            return ()
        out = []
        for slot in self.slots:
            p = precisions.get(slot.name, slot.precisions[0])
            if p not in slot.precisions:
                raise SearchError(f"`{p}` is not a precision of slot `{slot.name}`", code="E0707")
            out.append(slot.precisions.index(p))
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
        return self.decode((0,) * len(self.radices))

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
