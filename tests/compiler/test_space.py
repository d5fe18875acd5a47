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
