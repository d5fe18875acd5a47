"""The method's stages as functions, and the `Pipeline` that chains them.

Every stage is `stage(run_dir, settings, ctx)`: `run_dir` the run folder (each stage writes its
own RUN/<stage>/ and reads what earlier stages wrote there, `layout`), `settings` a frozen attrs
class of what the stage is asked (paths left None default to the run folder's), `ctx` the
`Context` the stages of a run share (accelerator, AMP, cluster, teacher check, console). The
command line parses its options into these settings and calls these functions.
"""

from __future__ import annotations

from .context import Context
from .data import DataSettings, data
from .distill import DistillResult, DistillSettings, distill
from .export import ExportSettings, export
from .profile import ProfileSettings, profile
from .report import report
from .run import Pipeline, RunSettings
from .saliency import SaliencyResult, SaliencySettings, saliency
from .search import SearchSettings, search
from .train import TrainSettings, train
from .verify import VerifySettings, verify

__all__ = [
    "Context",
    "DataSettings",
    "DistillResult",
    "DistillSettings",
    "ExportSettings",
    "Pipeline",
    "ProfileSettings",
    "RunSettings",
    "SaliencyResult",
    "SaliencySettings",
    "SearchSettings",
    "TrainSettings",
    "VerifySettings",
    "data",
    "distill",
    "export",
    "profile",
    "report",
    "saliency",
    "search",
    "train",
    "verify",
]
