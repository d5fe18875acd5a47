"""The error of surrogate distillation and of surrogate banks (codes E11xx)."""

from __future__ import annotations

from archc.dsl.errors import SearchError


class DistillError(SearchError):
    """A distillation run or a surrogate bank is invalid: bad settings, a run folder made with other
    settings, a bank made for another teacher, a choice without a trained surrogate."""
