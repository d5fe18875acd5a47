"""archc: an architecture compiler for image-restoration networks that must run fast on phones.

The names below load on first use, so `import archc` (and the command line) does not import
torch until something is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from archc.errors import ArchError

if TYPE_CHECKING:
    from .api import Pipeline, RunSettings, build, compile_ir, load_grammar, parse, parse_block, run

__all__ = ["ArchError", "Pipeline", "RunSettings", "build", "compile_ir", "load_grammar", "parse", "parse_block", "run"]
__version__ = "0.1.0"

_LAZY = {"Pipeline", "RunSettings", "build", "compile_ir", "load_grammar", "parse", "parse_block", "run"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("archc.api"), name)
    if name == "api":
        return importlib.import_module("archc.api")
    raise AttributeError(f"module 'archc' has no attribute {name!r}")
