"""A block kind may name its torch builder as `"module:function"`: registering and parsing never
import it, the first build does, and a path that does not resolve is a RegistryError."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from archc.compiler.blocks import all_blocks, get, register_block, unregister
from archc.errors import RegistryError


@attrs.frozen
class _Params:
    pass


@pytest.fixture
def builder_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = "archc_test_lazy_builder"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent("""
        from torch import nn

        def build(params, channels):
            return nn.Conv2d(channels, channels, 1)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.fixture
def registered() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        unregister(name)


def _register(name: str, build: str, registered: list[str]) -> None:
    register_block(name, params=_Params, build=build, macs=lambda p, c, h, w: 0, origin="a test")
    registered.append(name)


def test_the_builder_is_imported_on_the_first_build(builder_module: str, registered: list[str]) -> None:
    _register("lazyconv", f"{builder_module}:build", registered)
    assert builder_module not in sys.modules
    module = get("lazyconv").build(_Params(), 8)
    assert builder_module in sys.modules
    assert module.weight.shape == (8, 8, 1, 1)


@pytest.mark.parametrize("path", ["archc_no_such_module:build", "archc.runtime.blocks.naf:no_such_function"])
def test_a_builder_path_that_does_not_resolve_is_a_registry_error(path: str, registered: list[str]) -> None:
    _register("brokenpath", path, registered)
    with pytest.raises(RegistryError, match="cannot be imported") as err:
        get("brokenpath").build(_Params(), 8)
    assert err.value.diagnostics[0].code == "E0909"


@pytest.mark.parametrize("name", sorted(all_blocks()))
def test_every_shipped_kind_names_its_builder_by_path(name: str) -> None:
    """So that parsing a spec (which loads every kind's declaration) never imports torch."""
    defn = all_blocks()[name]
    if defn.origin == "archc":
        assert isinstance(defn.builder, str) and defn.builder.startswith("archc.runtime.blocks.")
