"""The enumerator: exhaustive on small spaces, never yields an excluded slot or candidate."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import archc
from archc.compiler.space import SearchSpace

from helpers import SPECS

BLOCKS = ["naf", "naf(sca=off)", "naf_relu", "naf_bn", "dsconv", "mbconv(expand=2)", "identity"]
STAGES = ["enc1", "enc2", "mid", "dec2", "dec1"]


def _spec(candidates: list[str], excluded_slots: list[str], excluded_pairs: list[tuple[str, str]]) -> str:
    lines = [f"exclude {s}" for s in excluded_slots] + [f"exclude {s}: {b}" for s, b in excluded_pairs]
    return f"""
arch t {{ width 4
  encoder enc1: naf  encoder enc2: naf  middle mid: naf  decoder dec2: naf  decoder dec1: naf }}
search over t {{ candidates *: {' | '.join(candidates)}
  {chr(10).join(lines)} }}
"""


@st.composite
def spaces(draw):  # type: ignore[no-untyped-def]
    cands = draw(st.lists(st.sampled_from(BLOCKS[1:]), min_size=1, max_size=4, unique=True))
    excluded = draw(st.lists(st.sampled_from(STAGES), max_size=3, unique=True))
    pairs = draw(st.lists(st.tuples(st.sampled_from([s for s in STAGES if s not in excluded] or ["enc1"]),
                                    st.sampled_from(cands)), max_size=3, unique=True))
    pairs = [(s, b) for s, b in pairs if s not in excluded]
    return cands, excluded, pairs


@settings(max_examples=40, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_enumerator_never_yields_an_excluded_choice(space_def, seed) -> None:  # type: ignore[no-untyped-def]
    cands, excluded, pairs = space_def
    space = SearchSpace.of(archc.parse(_spec(cands, excluded, pairs)))
    assert not {s.name for s in space.slots} & set(excluded)
    forbidden = set(pairs)
    everything = list(space)
    assert len(everything) == space.size
    for choice in everything:
        assert not set(choice) & set(excluded)
        assert not {(s, b.canonical) for s, b in choice.items()} & forbidden
    for idx in space.sample(np.random.default_rng(seed), 5):
        choice = space.decode(idx)
        assert not {(s, b.canonical) for s, b in choice.items()} & forbidden
        assert space.encode(choice) == idx


def test_exhaustive_enumeration_of_the_tiny_space() -> None:
    space = SearchSpace.of(archc.parse(SPECS / "nafnet_tiny.arch"))
    assert space.size == 4**4
    strings = {space.canonical(c) for c in space}
    expected = {";".join(f"{s}={b}" for s, b in zip(["enc1", "enc2", "dec2", "dec1"], combo, strict=True))
                for combo in itertools.product(["naf", "naf(sca=off)", "dsconv", "identity"], repeat=4)}
    assert strings == expected
    assert space.canonical(space.baseline()) == "enc1=naf;enc2=naf;dec2=naf;dec1=naf"


def test_flat_index_round_trip_and_one_hot() -> None:
    space = SearchSpace.of(archc.parse(SPECS / "nafnet_gopro.arch"))
    assert space.size == 7**8
    for flat in [0, 1, 12345, space.size - 1]:
        assert space.index_of(space.indices_at(flat)) == flat
    onehot = space.one_hot([space.indices_at(12345)])
    assert onehot.shape == (1, 56) and onehot.sum() == 8


def test_saliency_exclusions_shrink_the_space() -> None:
    spec = archc.parse(SPECS / "nafnet_gopro.arch")
    space = SearchSpace.of(spec, exclude=["mid", "dec4"])
    assert space.size == 7**6 and "mid" in space.excluded


def test_precision_is_a_dimension_per_slot() -> None:
    spec = archc.parse(SPECS / "nafnet_tiny_precision.arch")
    space = SearchSpace.of(spec)
    assert space.radices == (4, 4, 4, 4, 3, 3, 3, 3) and space.size == 12**4
    assert space.canonical_of(space.indices_at(0)) == "enc1=naf@fp16;enc2=naf@fp16;dec2=naf@fp16;dec1=naf@fp16"
    idx = (2, 0, 0, 3, 1, 0, 2, 0)
    assert space.precisions_of(idx) == {"enc1": "w8a8", "enc2": "fp16", "dec2": "w8a16", "dec1": "fp16"}
    assert space.canonical_of(idx) == "enc1=dsconv@w8a8;enc2=naf@fp16;dec2=naf@w8a16;dec1=identity@fp16"
    assert space.encode(space.decode(idx), space.precisions_of(idx)) == idx
    seen = {space.canonical_of(space.indices_at(i)) for i in range(0, space.size, 7)}
    assert len(seen) == len(range(0, space.size, 7))  # distinct networks get distinct strings


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["w8a8", "w8a16"]), min_size=1, max_size=2, unique=True), st.integers(0, 10**6))
def test_a_precision_never_listed_is_never_drawn(listed: list[str], seed: int) -> None:
    text = _spec(["naf", "dsconv"], [], []).rstrip().rstrip("}") + f"  precision mid, dec1: {' | '.join(listed)}\n}}\n"
    space = SearchSpace.of(archc.parse(text))
    for idx in space.sample(np.random.default_rng(seed), 20):
        for name, p in space.precisions_of(idx).items():
            assert p == "fp16" or (name in ("mid", "dec1") and p in listed)


def test_a_space_without_precision_keeps_its_indices_and_strings() -> None:
    space = SearchSpace.of(archc.parse(SPECS / "nafnet_tiny.arch"))
    assert space.radices == (4, 4, 4, 4) and not space.has_precision
    assert space.canonical_of((2, 0, 0, 3)) == "enc1=dsconv;enc2=naf;dec2=naf;dec1=identity"
    assert space.precisions_of((2, 0, 0, 3)) == {}
