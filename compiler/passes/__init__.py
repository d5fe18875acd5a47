"""Inference passes: rewrites of a lowered network into an equivalent, faster one.

One pass per module, named for what it rewrites; each module's docstring holds its algebra.
`pipeline.py` names the default order and the -O levels.
"""

from __future__ import annotations

from .base import Pass
from .pipeline import BY_NAME, DEFAULT_LEVEL, PASSES, optimize, optimize_graph, passes_for, select

__all__ = ["BY_NAME", "DEFAULT_LEVEL", "PASSES", "Pass", "optimize", "optimize_graph", "passes_for", "select"]
