"""The public Python API: parse a spec, build a module, compile to IR.

Each function lives with its layer (`compiler.frontend` parses, `runtime.network.build` builds); this module
only gathers them for users, so engine code never imports it. `build` loads on first use: parsing
and compiling to IR never import torch.
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

__all__ = [
    "ChoiceLike",
    "as_spec",
    "build",
    "choice_of",
    "compile_ir",
    "load_grammar",
    "parse",
    "parse_block",
    "parse_file",
]


def compile_ir(spec: Spec | str | Path, choice: ChoiceLike = None) -> nx.DiGraph:
    s = as_spec(spec)
    return to_ir(s, choice_of(s, choice))


def __getattr__(name: str) -> Any:
    if name == "build":  # torch and the block library load here, not when archc.api is imported
        from archc.runtime.network.build import build

        return build
    raise AttributeError(f"module 'archc.api' has no attribute {name!r}")
