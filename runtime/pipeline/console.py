"""The one terminal the stages and the command line write to: progress bars, tables and lines."""

from __future__ import annotations

import sys

from rich.console import Console

console = Console(highlight=False, width=None if sys.stdout.isatty() else 132)
err_console = Console(stderr=True, highlight=False)
