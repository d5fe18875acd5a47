"""The public Python API: parse a spec, build a module, compile to IR.

Each function lives with its layer (`compiler.frontend` parses, `runtime.build` builds); this module
only gathers them for users, so engine code never imports it.
"""

from __future__ import annotations

from pathlib import Path

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
from archc.runtime.build import build

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
