"""Work functions for the executor tests (module level, so every backend can ship them)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from archc.errors import DataError
from archc.runtime.cluster import report


def square_plus(shared: int, x: int) -> int:
    report(("item", x))
    return x * x + shared


def fail_on_three(shared: Any, x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x


def user_error(shared: Any, x: int) -> int:
    raise DataError(f"no image {x}", code="E0599")


def die_once(marker_dir: str, x: int) -> tuple[int, int]:
    """Kills its own worker process the first time item 0 runs (a marker file remembers it)."""
    marker = Path(marker_dir) / f"died-{x}"
    if x == 0 and not marker.exists():
        marker.write_text("x")
        os._exit(1)
    return x, os.getpid()


def threads(shared: Any, x: int) -> int:
    import torch

    return torch.get_num_threads()


def _unreadable() -> None:
    raise RuntimeError("this progress event cannot be read back")


class Unreadable:
    """A progress event the worker can send but the driver cannot load (its unpickling raises)."""

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _unreadable, ()


def garbled_progress(shared: Any, x: int) -> int:
    """Reports an event the driver cannot read, one the worker cannot send, then a good one."""
    report(Unreadable())
    report(lambda: x)  # a lambda does not pickle: the send fails in the worker
    report(("item", x))
    return x
