"""Progress lines for logs: a rich bar draws nothing until it ends when stdout is not a terminal,
so a long stage also prints its latest status every `INTERVAL_S` seconds there (as `archc train`
does), from a background thread, so a step that reports nothing still shows the stage is alive."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console

from .console import console

DEFAULT_CONSOLE = console  # the one a heartbeat prints on unless given another

INTERVAL_S = 30.0


class Heartbeat:
    """`with Heartbeat("distill") as beat: ... beat.update("3/12 surrogates")`: prints
    `distill 30 s: 3/12 surrogates` every `interval` seconds while the block runs, only when the
    console is not a terminal (or `force`)."""

    def __init__(
        self,
        name: str,
        interval: float | None = None,
        force: bool = False,
        emit: Callable[[str], None] | None = None,
        console: Console | None = None,
    ) -> None:
        console = console or DEFAULT_CONSOLE
        self.name, self.status = name, "started"
        self.interval = INTERVAL_S if interval is None else interval
        self.active = force or not console.is_terminal
        self.emit = emit or (lambda line: console.print(line, markup=False, highlight=False))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()

    def update(self, status: str) -> None:
        self.status = status

    def line(self) -> str:
        return f"{self.name} {time.monotonic() - self._t0:.0f} s: {self.status}"

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.emit(self.line())

    def __enter__(self) -> Heartbeat:
        self._t0 = time.monotonic()
        if self.active:
            self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{self.name}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
