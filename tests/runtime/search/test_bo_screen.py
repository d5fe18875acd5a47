"""BoTorch's candidate screen: the 2-D hypervolume gain against a brute-force reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from archc.runtime.search.bo import hv_gain_2d
from archc.runtime.search.pareto import hypervolume_2d


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 12), st.integers(1, 20), st.booleans())
def test_hv_gain_equals_the_difference_of_hypervolumes(seed, k, n, ints) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    draw = (lambda *s: rng.integers(0, 6, size=s).astype(float)) if ints else (lambda *s: rng.uniform(0, 6, s))
    front, points = np.asarray(draw(k, 2), dtype=float), np.asarray(draw(n, 2), dtype=float)
    ref = np.array([5.0, 5.5])
    base = hypervolume_2d(front, ref)
    want = [hypervolume_2d(np.vstack([front, p[None]]), ref) - base for p in points]
    np.testing.assert_allclose(hv_gain_2d(front, points, ref), want, atol=1e-9)
