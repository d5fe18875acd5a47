"""Block kinds as the compiler knows them: the registry and the shipped kinds' torch-free declarations
(`schemas/`, one module per kind, beside one grammar fragment per kind in grammar/blocks/). Each kind's
torch module lives in runtime/blocks/ and is named by its declaration, imported the first time a block
is built."""

from .registry import BlockDef, all_blocks, get, load_plugins, plugin_files, register, register_block, unregister

__all__ = [
    "BlockDef",
    "all_blocks",
    "get",
    "load_plugins",
    "plugin_files",
    "register",
    "register_block",
    "unregister",
]
