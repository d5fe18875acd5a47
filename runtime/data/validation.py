"""Which pairs of a test split validate: drawn across its scenes, not the first files (a set stored
scene by scene would otherwise validate on one scene). The search's crops and the distill stage's
plug-in report use the same images, so the plug-in drops predict what the search scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .pairs import PairedImages

__all__ = ["scene_of", "validation_indices"]


def scene_of(pair_blur: Path) -> str:
    """The scene of a pair: its scene folder in the GoPro layout (`<split>/<scene>/blur/<frame>`;
    a synthetic set's source photograph, as its meta.json names it)."""
    return pair_blur.parent.parent.name


def validation_indices(pairs: PairedImages, n: int) -> list[int]:
    """`n` positions of `pairs` drawn across their scenes: each scene gets an equal share (the
    first scenes one more when `n` does not divide), taken evenly spaced within the scene; all
    pairs when `n` >= their count. Sorted. Not the first `n` files, which in a set stored scene by
    scene all come from one scene."""
    if n >= len(pairs):
        return list(range(len(pairs)))
    scenes: dict[str, list[int]] = {}
    for i, pair in enumerate(pairs.pairs):
        scenes.setdefault(scene_of(pair.blur), []).append(i)
    groups = list(scenes.values())
    quota = [0] * len(groups)
    while sum(quota) < n:  # one more per scene in turn, skipping scenes already used up
        for k, group in enumerate(groups):
            if sum(quota) < n and quota[k] < len(group):
                quota[k] += 1
    out: list[int] = []
    for group, q in zip(groups, quota, strict=True):
        out += [group[int(j)] for j in np.round(np.linspace(0, len(group) - 1, q)).astype(int)]
    return sorted(out)
