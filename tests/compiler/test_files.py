"""Atomic output: every file archc writes gets the usual mode (0666 less the umask), safetensors too."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from torch import nn

from archc.compiler.files import write_text_atomic
from archc.compiler.weights import save_safetensors


def test_safetensors_and_text_files_get_the_same_usual_mode(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    save_safetensors(nn.Linear(2, 2), tmp_path / "w.safetensors")
    write_text_atomic(tmp_path / "t.json", "{}")
    modes = {stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("w.safetensors", "t.json")}
    assert modes == {0o666 & ~mask}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json", "w.safetensors"]  # no temp file left
