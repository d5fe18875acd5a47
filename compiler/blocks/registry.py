"""The string-keyed registry of block kinds: params class, torch builder, MAC count, grammar fragment,
and the facts the compiler and the stages read off a kind (training memory, whether it is a transformer).

A block kind is registered once; a second registration under the same name raises. Users add
their own kinds from outside the package with a plugin file (`--plugin my_block.py`, which calls
`register_block`) or through the `archc.blocks` entry-point group.

Parsing and checking a spec needs a kind's name, params and fragment but never torch, so the
shipped kinds are declared in `schemas/` (torch-free, one module per kind, each found there without a
list) and name their builder as `"module:function"` (their torch modules live in `runtime/blocks/`),
imported the first time a block is built; a plugin may pass the builder itself.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Iterable
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from attrs import frozen

from archc.errors import RegistryError

from . import schemas

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[[Any, int], "nn.Module"]
MacCounter = Callable[[Any, int, int, int], int]
WidthCheck = Callable[[Any, int], "str | None"]


@frozen
class BlockDef:
    """One block kind. `build(params, channels)` gives a module mapping N x C x H x W to the same
    shape; `macs(params, channels, h, w)` counts its conv multiply-accumulates (conv-only rule).
    `builder` is the builder or its `"module:function"` path (imported on the first build).
    `fits(params, channels)` says why the block cannot run at a width (None: it can, or any width).
    `train_maps` is how many `C x h x w` float maps autograd saves for one block's backward pass
    (measured with `torch.autograd.graph.saved_tensors_hooks`, distinct storages) and `transformer`
    whether the block is a transformer block; None where a kind does not declare them (a plugin may
    not: the memory estimate then takes `compiler.memory.DEFAULT_TRAIN_MAPS`)."""

    name: str
    params: type
    builder: Builder | str
    macs: MacCounter
    fragment: Path
    summary: str
    origin: str = "archc"
    fits: WidthCheck | None = None
    train_maps: float | None = None
    transformer: bool | None = None

    def build(self, params: Any, channels: int) -> nn.Module:
        return _resolve_builder(self)(params, channels)


def _import_builder(name: str, path: str) -> Builder:
    module, _, attr = path.partition(":")
    try:
        builder = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise RegistryError(f"the builder `{path}` of block `{name}` cannot be imported: {exc}",
                            code="E0909") from exc
    if not callable(builder):
        raise RegistryError(f"the builder `{path}` of block `{name}` is not callable", code="E0909")
    return builder  # type: ignore[no-any-return]


_BUILDERS: dict[str, Builder] = {}  # "module:function" -> the function, imported once


def _resolve_builder(defn: BlockDef) -> Builder:
    if not isinstance(defn.builder, str):
        return defn.builder
    if defn.builder not in _BUILDERS:
        _BUILDERS[defn.builder] = _import_builder(defn.name, defn.builder)
    return _BUILDERS[defn.builder]


_REGISTRY: dict[str, BlockDef] = {}
_PLUGINS: dict[str, tuple[str, set[str]]] = {}  # plugin file -> (module name, block names it registered)


def shipped_fragment(name: str) -> Path:
    return Path(str(resources.files("archc.grammar").joinpath("blocks", f"{name}.lark")))


def register(defn: BlockDef) -> BlockDef:
    if defn.name in _REGISTRY:
        prev = _REGISTRY[defn.name]
        raise RegistryError(
            f"block `{defn.name}` is registered twice (by {prev.origin} and by {defn.origin})",
            help="give the new block kind another name", code="E0904",
        )
    if not attrs.has(defn.params):
        raise RegistryError(f"the params class of block `{defn.name}` is not an attrs class", code="E0905")
    _REGISTRY[defn.name] = defn
    return defn


def register_block(
    name: str, *, params: type, build: Builder | str, macs: MacCounter, fragment: str | Path | None = None,
    summary: str = "", origin: str | None = None, fits: WidthCheck | None = None,
    train_maps: float | None = None, transformer: bool | None = None,
) -> BlockDef:
    """Register a block kind. `build` is the torch builder `(params, channels) -> nn.Module` or its
    `"module:function"` path; `fragment` defaults to the shipped `grammar/blocks/NAME.lark`."""
    path = Path(fragment) if fragment is not None else shipped_fragment(name)
    return register(
        BlockDef(name, params, build, macs, path, summary, origin or "archc", fits, train_maps, transformer)
    )


def unregister(name: str) -> None:
    """Remove a kind (tests and plugin reloads); a plugin file left with no kind is forgotten."""
    _REGISTRY.pop(name, None)
    for path, (module, names) in list(_PLUGINS.items()):
        names.discard(name)
        if not names:
            del _PLUGINS[path]
            sys.modules.pop(module, None)


def plugin_files() -> tuple[str, ...]:
    """The plugin files whose block kinds are registered now (worker processes load them too)."""
    return tuple(sorted(_PLUGINS))


def get(name: str) -> BlockDef:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise RegistryError(f"no block kind named `{name}`", code="E0906",
                            help=f"loaded blocks: {', '.join(sorted(_REGISTRY))}") from None


def all_blocks() -> dict[str, BlockDef]:
    _load_builtin()
    return dict(sorted(_REGISTRY.items()))


_loaded = False


def _shipped_kinds() -> list[str]:
    """The modules of `schemas/`: one per shipped kind, found without a hand-kept list."""
    return sorted(info.name for info in pkgutil.iter_modules(schemas.__path__))


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in _shipped_kinds():
        importlib.import_module(f"{schemas.__name__}.{name}")
    for ep in metadata.entry_points(group="archc.blocks"):
        try:
            ep.load()
        except RegistryError:
            raise
        except Exception as exc:  # a broken third-party plugin must not look like our bug
            raise RegistryError(f"block plugin `{ep.name}` ({ep.value}) failed to load: {exc}",
                                code="E0907") from exc


def load_plugins(paths: Iterable[str | Path]) -> None:
    """Import plugin files that register block kinds (each calls `register_block`)."""
    _load_builtin()
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise RegistryError(f"no such plugin file: {path}", code="E0908",
                                help="pass a Python file that calls archc.runtime.blocks.register_block")
        mod_name = f"archc_plugin_{path.stem}_{abs(hash(str(path.resolve())))}"
        if mod_name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(mod_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        before = set(_REGISTRY)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[mod_name]
            for added in set(_REGISTRY) - before:  # a plugin that fails half-way registers nothing
                _REGISTRY.pop(added)
            if isinstance(exc, RegistryError):
                raise
            raise RegistryError(f"plugin {path} failed to load: {type(exc).__name__}: {exc}",
                                code="E0907") from exc
        _PLUGINS[str(path.resolve())] = (mod_name, set(_REGISTRY) - before)
