"""Shipped teachers: `pretrained:NAME` resolves to package data whose files agree with the card."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

import archc
from archc.compiler.pretrained import PREFIX, available, get, resolve
from archc.compiler.weights import read_metadata
from archc.errors import WeightsError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [p.name for p in available()]


def test_anything_but_a_reference_passes_through() -> None:
    assert resolve(None) is None
    assert resolve("runs/x/weights.safetensors") == "runs/x/weights.safetensors"
    assert resolve(Path("a.pth")) == Path("a.pth")


@pytest.mark.parametrize("name", SHIPPED)
def test_a_reference_becomes_the_shipped_file(name: str) -> None:
    path = Path(str(resolve(f"{PREFIX}{name}")))
    assert path.is_file() and path.name == "weights.safetensors" and path.parent.name == name


@pytest.mark.parametrize("name", SHIPPED)
def test_an_unknown_name_is_one_error_with_a_guess(name: str) -> None:
    with pytest.raises(WeightsError) as err:
        resolve(f"{PREFIX}{name[:-1]}")
    diag = err.value.diagnostics[0]
    assert diag.code == "E0405" and name[:-1] in diag.message and f"`{name}`" in diag.message
    assert diag.help is not None and f"did you mean `pretrained:{name}`" in diag.help


@pytest.mark.parametrize("name", SHIPPED)
def test_the_files_agree_with_the_card(name: str) -> None:
    p = get(name)
    assert p.weights.stat().st_size <= 10 * 2**20
    assert hashlib.sha256(p.weights.read_bytes()).hexdigest() == p.card["weights_sha256"]
    # the shipped spec is the repository's, and the one the weights were trained on
    assert p.spec.read_text() == (ROOT / p.card["spec_source"]).read_text()
    assert read_metadata(p.weights)["spec"].strip() == p.spec.read_text().strip()
    assert (p.folder / "MODEL_CARD.md").is_file() and (p.folder / "gain_curve.png").is_file()
    for key in ("steps", "wall_seconds", "machine", "reproduce", "recipe", "data"):
        assert p.card[key], key


@pytest.mark.parametrize("name", SHIPPED)
def test_build_loads_a_reference_strictly(name: str) -> None:
    p = get(name)
    model = archc.build(str(p.spec), weights=f"{PREFIX}{name}")
    assert sum(t.numel() for t in model.parameters()) == p.card["parameters"]
    from safetensors.torch import load_file

    state = load_file(str(p.weights))
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
