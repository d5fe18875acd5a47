"""The errors of a saliency run and of resolving `exclude top K by METRIC` (codes E10xx)."""

from __future__ import annotations

from archc.dsl.errors import ArchError


class SaliencyError(ArchError):
    """Saliency cannot be computed (untrained weights, bad settings) or a saliency file cannot
    resolve a spec's `exclude top K by METRIC` lines."""
