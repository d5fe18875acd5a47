"""The worker side of every backend: per-process setup and progress reporting.

A work function reports progress with `report(event)`; the event reaches the driver's
`on_progress` through whatever channel the backend installed (a multiprocessing queue, a Ray queue
actor, or a direct call in this process). Without a channel (a plain call), reports are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_channel: Callable[[Any], None] | None = None
_threads: int | None = None


def report(event: Any) -> None:
    """Send `event` (a small picklable value) to the driver's progress callback."""
    if _channel is not None:
        _channel(event)


def set_channel(channel: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
    """Install the progress channel of this process; returns the one it replaces."""
    global _channel
    before, _channel = _channel, channel
    return before


def setup(threads: int, plugins: tuple[str, ...]) -> None:
    """Set torch's thread count and load the driver's block plugins (both idempotent)."""
    global _threads
    if _threads != threads:
        import torch

        torch.set_num_threads(threads)
        _threads = threads
    if plugins:
        from archc.compiler.blocks import load_plugins

        load_plugins(plugins)
