"""Networks that score better than their teacher, flagged.

A network of the search space is the teacher with some slots replaced by distilled surrogates; it
should not restore better than the teacher. When it does by more than the validation noise, its
surrogates learned something the teacher had not (they kept training on sharp targets the teacher
never fitted), so its place on the front mixes restructuring with extra training.

Validation noise: the drop is a mean of per-image differences (teacher PSNR - network PSNR) on
the same validation images; its noise is their standard error, `psnr_drop_se` (std with ddof 1 /
sqrt(n)). A network is flagged when it beats the teacher by more than `NOISE_SE` standard errors
(about a one-sided 97.5 % bound under a normal approximation; with one image there is no noise
estimate and any gain above `MIN_GAIN_DB` is flagged; an evaluation journalled without `psnr_drop_se` is never flagged).
A gain of at most `MIN_GAIN_DB` is never flagged, whatever its noise: the teacher itself in a lower
precision (fp16 rounding) scores a few ten-thousandths of a dB apart from the teacher, with a
standard error smaller still, and no one would call that learning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .journal import Evaluation

NOISE_SE = 2.0
MIN_GAIN_DB = 0.01


def beats_teacher(ev: Evaluation) -> dict[str, Any] | None:
    """{gain_db, noise_db, reason} when `ev` beats the teacher beyond the validation noise, else None."""
    se = ev.objectives.get("psnr_drop_se")
    if se is None:  # journalled before the noise was recorded: no basis for a flag
        return None
    gain, noise = -ev.psnr_drop, NOISE_SE * se
    if gain <= max(noise, MIN_GAIN_DB):
        return None
    reason = (f"scores {gain:.3f} dB above the teacher, more than the validation noise ({noise:.3f} dB = "
              f"{NOISE_SE:g} standard errors of the per-image differences): its surrogates learned what the teacher "
              "had not, so this point mixes restructuring with extra training; a stronger teacher would not show it")
    return {"gain_db": gain, "noise_db": noise, "reason": reason}


def flagged(history: Sequence[Evaluation]) -> dict[str, dict[str, Any]]:
    """{position in `history` (as a string, for JSON): flag} for every network that beats the teacher."""
    return {str(i): flag for i, ev in enumerate(history) if (flag := beats_teacher(ev)) is not None}
