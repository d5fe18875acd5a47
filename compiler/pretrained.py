"""Weights that ship with archc, named `pretrained:NAME` wherever a weights file is taken.

Each lives in its own folder of the package data `archc.pretrained` (the repository's
`pretrained/NAME/`): `weights.safetensors`, `spec.arch` (the network the weights fit, identical to
`specs/NAME.arch`), `card.json` (how it was trained and what it scores; the machine-readable model
card), `MODEL_CARD.md` (the same for people) and `gain_curve.png`. Torch-free: listing and resolving
names must not slow the command line's start-up.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from attrs import frozen

from archc.diagnostics import quoted_list, unknown_name_help
from archc.errors import WeightsError

PREFIX = "pretrained:"


@frozen
class Pretrained:
    """One shipped teacher: its folder and the card written when it was trained."""

    name: str
    folder: Path
    card: dict[str, Any]

    @property
    def weights(self) -> Path:
        return self.folder / "weights.safetensors"

    @property
    def spec(self) -> Path:
        return self.folder / "spec.arch"

    @property
    def test(self) -> dict[str, Any]:
        """Test-split scores on the card: psnr, ssim, input_psnr, gain_db, images."""
        return dict(self.card["test"])


def root() -> Path:
    """The folder holding one sub-folder per shipped teacher."""
    return Path(str(resources.files("archc.pretrained")))


def available() -> list[Pretrained]:
    """Every shipped teacher (a folder with a card and weights), by name."""
    found = []
    for folder in sorted(p for p in root().iterdir() if p.is_dir()):
        card = folder / "card.json"
        if card.is_file() and (folder / "weights.safetensors").is_file():
            found.append(Pretrained(folder.name, folder, json.loads(card.read_text(encoding="utf-8"))))
    return found


def get(name: str) -> Pretrained:
    """The shipped teacher called `name`; WeightsError (E0405) naming the ones that exist otherwise."""
    known = {p.name: p for p in available()}
    if name in known:
        return known[name]
    listing = quoted_list(known) if known else "none"
    help = unknown_name_help(name, known, "`archc pretrained` lists them", shown=f"`{PREFIX}{{}}`", always=True)
    raise WeightsError(f"no pretrained weights called `{name}` ship with archc (shipped: {listing})",
                       code="E0405", help=help)


def is_ref(weights: object) -> bool:
    return isinstance(weights, str) and weights.startswith(PREFIX)


def resolve(weights: str | Path | None) -> str | Path | None:
    """`pretrained:NAME` becomes the path of its shipped file; anything else is returned unchanged."""
    if not is_ref(weights):
        return weights
    return str(get(str(weights)[len(PREFIX):]).weights)
