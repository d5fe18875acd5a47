"""`--cluster`: where the parallel work of `distill`, `profile`, `search` and `run` runs.

`local` (the default) is this machine's process pool (`--jobs`), with no Ray needed; `ray` joins
the cluster at `RAY_ADDRESS`, or starts a local Ray for the run; `ray://HOST:PORT` connects through
Ray Client. Results for a seed are the same on every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

CLUSTER_HELP = (
    "Where parallel work runs: local (this machine's processes, see --jobs), ray (the Ray cluster at "
    "RAY_ADDRESS, else a local Ray started for the run) or ray://HOST:PORT."
)


def cluster_option(fn: F) -> F:
    return click.option("--cluster", default="local", show_default=True, help=CLUSTER_HELP)(fn)
