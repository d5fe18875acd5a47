"""Verification of a search's exported pick: fine-tuned, scored on the whole test split, its
exported files timed end to end, reported as "predicted -> verified" (`stage.py`)."""

from __future__ import annotations

from .finetune import LOSSES, FinetuneSettings
from .stage import RESULT, VerifySettings, verify

__all__ = ["LOSSES", "RESULT", "FinetuneSettings", "VerifySettings", "verify"]
