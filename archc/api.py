"""The public Python API: parse a spec, build a module, compile to IR, and run the method.

Each function lives with its layer (`compiler.frontend` parses, `runtime.network.build` builds, the stages
and their `Pipeline` live in `runtime.pipeline`); this module only gathers them for users, so engine
code never imports it. `build` and the stages load on first use: parsing and compiling to IR never
import torch.

    import archc
    log = archc.run("specs/nafnet_small.arch", "runs/py", weights="pretrained:nafnet_small", budget=24)

or stage by stage, with one `Context` (accelerator, cluster, teacher check) for all of them:

    from archc.api import Context, DistillSettings, distill
    with Context(accelerator="cpu") as ctx:
        distill(Path("runs/py"), DistillSettings("specs/nafnet_small.arch", iters=300), ctx)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from archc.compiler.frontend import (
    ChoiceLike,
    as_spec,
    choice_of,
    load_grammar,
    parse,
    parse_block,
    parse_file,
)
from archc.compiler.ir import to_ir
from archc.dsl.spec import Spec

if TYPE_CHECKING:
    from archc.runtime.network.build import build

STAGES = (
    "Context",
    "DataSettings",
    "DistillSettings",
    "ExportSettings",
    "Pipeline",
    "ProfileSettings",
    "RunSettings",
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
)

__all__ = [
    *STAGES,
    "ChoiceLike",
    "as_spec",
    "build",
    "choice_of",
    "compile_ir",
    "load_grammar",
    "parse",
    "parse_block",
    "parse_file",
    "run",
]


def compile_ir(spec: Spec | str | Path, choice: ChoiceLike = None) -> nx.DiGraph:
    s = as_spec(spec)
    return to_ir(s, choice_of(s, choice))


def run(
    spec: str | Path,
    out: str | Path,
    *,
    accelerator: str = "auto",
    amp: str = "off",
    cluster: str = "local",
    allow_weak_teacher: bool = False,
    **settings: Any,
) -> dict[str, Any]:
    """Run the whole method on `spec` into the run folder `out` (stages already done there are
    skipped) and return its journal (OUT/run.json). `settings` are `RunSettings` fields (data,
    weights, device, budget, strategy, pick, ...); the keywords before them are the `Context`'s."""
    from archc.runtime.pipeline import Context, Pipeline, RunSettings

    chosen = RunSettings(str(spec), **settings)
    with Context(accelerator, amp, cluster, chosen.jobs, allow_weak_teacher) as ctx:
        return Pipeline(out, chosen, ctx).run()


def __getattr__(name: str) -> Any:
    if name == "build":  # torch and the block library load here, not when archc.api is imported
        from archc.runtime.network.build import build

        return build
    if name in STAGES:
        import archc.runtime.pipeline as pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'archc.api' has no attribute {name!r}")
