"""Imports point one way: grammar -> dsl -> compiler -> runtime -> the facade (archc.api, the CLI).
Engine code never imports the facade, the front end (dsl) never imports torch or the back end, and the
compiler never imports the runtime. The diagnostics model and the error root sit below them all."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACADE = ("archc.api", "archc.cli")
SUBPACKAGES = {"dsl", "compiler", "runtime", "grammar"}
FORBIDDEN = {
    "grammar": (*FACADE, "archc.dsl", "archc.compiler", "archc.runtime", "torch"),
    "dsl": (*FACADE, "archc.compiler", "archc.runtime", "torch"),
    "compiler": (*FACADE, "archc.runtime"),
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


def _own(module: str) -> list[str]:
    """What `archc/<module>.py` imports of archc (and torch)."""
    return [m for m in _imports(ROOT / "archc" / f"{module}.py") if m.startswith("archc") or m == "torch"]


def test_the_error_module_sits_below_every_layer() -> None:
    """archc/errors.py is imported by the front end and the engine alike, so it imports nothing of
    archc but the diagnostics model (and no torch)."""
    assert _own("errors") == ["archc.diagnostics"]


def test_the_diagnostics_module_sits_below_everything_that_uses_it() -> None:
    """Every layer and the error root render their problems with archc/diagnostics.py, so it imports
    nothing of archc (and no torch), and no layer keeps a diagnostics module of its own."""
    assert _own("diagnostics") == []
    users = {
        path.relative_to(ROOT).parts[0]
        for layer in (*SUBPACKAGES, "archc")
        for path in (ROOT / layer).rglob("*.py")
        if "archc.diagnostics" in _imports(path)
    }
    assert {"dsl", "compiler", "runtime", "archc"} <= users
    assert sorted(p.name for layer in SUBPACKAGES for p in (ROOT / layer).rglob("diagnostics.py")) == []


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
