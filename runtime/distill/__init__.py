"""Surrogate distillation (design step 5): for every (slot, candidate) of a search space, train the
candidate to reproduce the frozen teacher's features across the slot, and keep the results in a
bank that plugs into the teacher."""

from archc.errors import DistillError

from .bank import Bank, BankEntry, assemble, load_bank, plug_surrogates
from .config import DistillConfig
from .execute import Event
from .fit import FEATURE_LOSS
from .plan import Job, plan_jobs
from .run import DistillRun, distill

__all__ = [
    "FEATURE_LOSS",
    "Bank",
    "BankEntry",
    "DistillConfig",
    "DistillError",
    "DistillRun",
    "Event",
    "Job",
    "assemble",
    "distill",
    "load_bank",
    "plan_jobs",
    "plug_surrogates",
]
