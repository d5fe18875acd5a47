"""The composed parser's tables are kept between runs in a per-user cache file, so a language tool
does not rebuild them on every start; a stale or damaged file is rebuilt, never trusted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lark
import pytest

from archc.compiler.blocks import all_blocks
from archc.dsl import grammar
from archc.dsl.parser import parse_text

SPEC = Path(__file__).resolve().parents[2] / "specs" / "nafnet_tiny.arch"


@pytest.fixture(autouse=True)
def _cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("ARCHC_GRAMMAR_CACHE", raising=False)
    grammar._build.cache_clear()
    yield
    grammar._build.cache_clear()


def _compose() -> grammar.Grammar:
    grammar._build.cache_clear()  # what a new process sees
    return grammar.compose(all_blocks().values())


def _parse(g: grammar.Grammar) -> object:
    return parse_text(SPEC.read_text(encoding="utf-8"), str(SPEC), g)


def _no_rebuild(*args: object, **kwargs: object) -> None:
    raise AssertionError("the grammar was rebuilt instead of loaded from the cache")


def test_a_second_start_loads_the_tables_instead_of_building_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _compose()
    [cached] = (tmp_path / "archc").iterdir()
    monkeypatch.setattr(lark.lark, "load_grammar", _no_rebuild)
    second = _compose()
    assert _parse(second) == _parse(first)
    assert second.display == first.display and second.param_keys == first.param_keys
    assert list((tmp_path / "archc").iterdir()) == [cached]


def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path) -> None:
    first = _compose()
    [cached] = (tmp_path / "archc").iterdir()
    cached.write_bytes(cached.read_bytes()[:100])
    assert _parse(_compose()) == _parse(first)
    assert len(cached.read_bytes()) > 100


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHC_GRAMMAR_CACHE", "0")
    _compose()
    assert not (tmp_path / "archc").exists()
