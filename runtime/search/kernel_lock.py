"""BoTorch's qLogNEHVI compiles a small C++ kernel on first use (torch's JIT extension build), and
torch guards that build with a lock file it waits on forever. A process killed mid-build (a stopped
run, a killed worker) leaves the lock behind, and every later search on the machine then hangs
before its first proposal. A lock older than any build is removed before the acquisition function
is made; a fresh one (a build in progress elsewhere) is left alone."""

from __future__ import annotations

import os
import time
from pathlib import Path

EXTENSION = "logei_fused_ext"
STALE_SECONDS = 600.0  # the build takes under a minute on two cores


def build_dir(name: str = EXTENSION) -> Path:
    """The folder torch builds the extension `name` in (as `torch.utils.cpp_extension` names it)."""
    from torch.utils.cpp_extension import _get_build_directory

    return Path(_get_build_directory(name, verbose=False))


def clear_stale_lock(folder: Path | None = None, now: float | None = None) -> bool:
    """Remove `folder`/lock when it is older than `STALE_SECONDS`; True when one was removed."""
    lock = (folder or build_dir()) / "lock"
    try:
        age = (time.time() if now is None else now) - lock.stat().st_mtime
    except OSError:
        return False
    if age < STALE_SECONDS:
        return False
    try:
        os.remove(lock)
    except OSError:
        return False
    return True
