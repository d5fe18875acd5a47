"""A regular (non-editable) install ships every package of the source tree and its data files."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _package_of(folder: Path) -> str:
    """The import name of a source folder, through `package-dir` (`compiler/passes` -> `archc.compiler.passes`)."""
    rel = folder.relative_to(ROOT).as_posix()
    for name, path in sorted(CONFIG["package-dir"].items(), key=lambda kv: -len(kv[1])):
        if rel == path or rel.startswith(path + "/"):
            return name + rel[len(path):].replace("/", ".")
    raise AssertionError(f"{rel} is under no package-dir entry")


def test_every_source_package_is_listed() -> None:
    folders = {init.parent for top in CONFIG["package-dir"].values() for init in (ROOT / top).rglob("__init__.py")}
    assert sorted(_package_of(f) for f in folders) == sorted(CONFIG["packages"])


def test_the_shipped_teachers_are_package_data() -> None:
    patterns = CONFIG["package-data"]["archc.pretrained"]
    for file in (ROOT / "pretrained").glob("*/*"):
        assert any(file.match(p) for p in patterns), file
