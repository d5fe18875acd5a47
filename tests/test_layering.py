"""Imports point one way: grammar -> dsl -> compiler -> runtime -> the facade (archc.api, the CLI).
Engine code never imports the facade, and the front end (dsl) never imports torch or the back end."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACADE = ("archc.api", "archc.cli")
SUBPACKAGES = {"dsl", "compiler", "runtime", "grammar"}
FORBIDDEN = {
    "dsl": (*FACADE, "archc.compiler", "archc.runtime", "torch"),
    "compiler": FACADE,
    "runtime": FACADE,
}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            if node.module == "archc" and any(alias.name not in SUBPACKAGES for alias in node.names):
                yield "archc.api"  # `from archc import build` reaches the facade too


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_never_imports_what_sits_above_it(layer: str) -> None:
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / layer).rglob("*.py")
        for module in _imports(path)
        if any(_under(module, prefix) for prefix in FORBIDDEN[layer])
    )
    assert wrong == []


def test_the_error_module_sits_below_every_layer() -> None:
    """archc/errors.py is imported by the front end and the engine alike, so it imports nothing of
    archc but the diagnostics model (and no torch)."""
    own = [m for m in _imports(ROOT / "archc" / "errors.py") if m.startswith("archc") or m == "torch"]
    assert own == ["archc.dsl.diagnostics"]


def test_every_error_class_lives_in_the_error_module() -> None:
    """One module holds the root and every subclass: no layer defines errors of its own."""
    elsewhere = sorted(
        f"{path.relative_to(ROOT)}: {node.name}"
        for layer in (*SUBPACKAGES, "archc")
        for path in (ROOT / layer).rglob("*.py")
        if path != ROOT / "archc" / "errors.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id.endswith("Error") and b.id != "Exception" for b in node.bases)
    )
    assert elsewhere == []
