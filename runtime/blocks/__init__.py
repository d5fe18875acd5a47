"""The torch modules of the shipped block kinds, one module per kind (their declarations, the registry
and the grammar fragments sit below the compiler: compiler/blocks/, grammar/blocks/).

The registry's names stay importable from here for plugin files written against this path."""

from archc.compiler.blocks import BlockDef, all_blocks, get, load_plugins, register, register_block, unregister

__all__ = ["BlockDef", "all_blocks", "get", "load_plugins", "register", "register_block", "unregister"]
