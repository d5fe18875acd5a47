"""A lock left by a killed kernel build is removed; a fresh one (a build in progress) is kept."""

from __future__ import annotations

import os
from pathlib import Path

from archc.runtime.search.kernel_lock import STALE_SECONDS, build_dir, clear_stale_lock


def test_a_stale_lock_is_removed_and_a_fresh_one_kept(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    lock.touch()
    assert not clear_stale_lock(tmp_path) and lock.exists()  # a build may be running
    old = lock.stat().st_mtime - STALE_SECONDS - 1
    os.utime(lock, (old, old))
    assert clear_stale_lock(tmp_path) and not lock.exists()
    assert not clear_stale_lock(tmp_path)  # nothing left to remove


def test_the_build_folder_is_torchs() -> None:
    assert build_dir().name == "logei_fused_ext"
