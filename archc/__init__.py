"""archc: an architecture compiler for image-restoration networks that must run fast on phones."""

from archc.dsl.errors import ArchError

from .api import build, compile_ir, load_grammar, parse, parse_block

__all__ = ["ArchError", "build", "compile_ir", "load_grammar", "parse", "parse_block"]
__version__ = "0.1.0"
