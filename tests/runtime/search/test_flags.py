"""Networks that beat their teacher by more than the validation noise are flagged, with the reason."""

from __future__ import annotations

import numpy as np
import pytest

from archc.runtime.search.flags import NOISE_SE, beats_teacher, flagged
from archc.runtime.search.journal import Evaluation
from archc.runtime.search.objectives import standard_error
from archc.runtime.search.report import summarise


def _ev(order: int, drop: float, se: float | None, latency: float = 10.0) -> Evaluation:
    objectives = {"psnr_drop": drop, "latency_ms": latency, **({"psnr_drop_se": se} if se is not None else {})}
    return Evaluation(f"net{order}", (order,), objectives, 0.1, "random", order)


def test_the_noise_is_the_standard_error_of_the_paired_differences() -> None:
    diffs = np.array([0.1, 0.3, 0.2, 0.6])
    assert standard_error(diffs) == pytest.approx(np.sqrt(np.sum((diffs - diffs.mean()) ** 2) / 3) / 2)
    assert standard_error(np.array([0.4])) == 0.0


@pytest.mark.parametrize(("drop", "se", "flag"), [
    (-0.30, 0.05, True),    # 0.30 dB better than the teacher, noise 0.10 dB
    (-0.08, 0.05, False),   # better, but within the noise
    (-0.02, 0.0, True),     # one image (or identical differences): any real gain is beyond the noise
    (-0.0004, 0.0002, False),  # the teacher in fp16: rounding, not learning (below MIN_GAIN_DB)
    (0.20, 0.05, False),    # worse than the teacher: the normal case
    (0.0, 0.0, False),      # the baseline
    (-0.30, None, False),   # journalled without its noise: no basis for a flag
])
def test_a_network_is_flagged_when_it_beats_the_teacher_beyond_the_noise(drop: float, se: float | None,
                                                                         flag: bool) -> None:
    got = beats_teacher(_ev(0, drop, se))
    assert (got is not None) is flag
    if got is not None:
        assert got["gain_db"] == pytest.approx(-drop) and got["noise_db"] == pytest.approx(NOISE_SE * se)
        assert "above the teacher" in got["reason"] and "validation noise" in got["reason"]


def test_search_results_list_the_flagged_networks() -> None:
    history = [_ev(0, 0.0, 0.0, 20.0), _ev(1, -0.4, 0.05, 12.0), _ev(2, 0.5, 0.05, 8.0), _ev(3, -0.02, 0.05, 15.0)]
    assert list(flagged(history)) == ["1"]
    assert list(summarise(history, [1.0, 20.0], [], history[0])["beats_teacher"]) == ["1"]
