"""Block kinds: each is one module here plus one grammar fragment in grammar/blocks/."""

from .registry import BlockDef, all_blocks, get, load_plugins, register, register_block, unregister

__all__ = ["BlockDef", "all_blocks", "get", "load_plugins", "register", "register_block", "unregister"]
