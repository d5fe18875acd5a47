"""The profile stage: a spec's block table on a latency device, one network predicted vs
profiled, or the table validated on random networks; writes OUT/latency.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrs import field, frozen

from archc.compiler.frontend import choice_of, parse
from archc.runtime.profile.measure import Protocol

from .context import Context
from .layout import folder


@frozen
class ProfileSettings:
    """Profile `spec` on the latency `device` (`archc devices`) at input `size` (None: the device's,
    else 256 x 256) with `protocol`; also predict and profile `choice` and `validate` random
    networks (drawn with `seed`), after fitting the table's scale on `fit` more (or, with `swaps`,
    timing every single-slot swap in the network and predicting with those); `device_options`
    are KEY=VALUE settings of remote devices; `resume` reuses figures of an earlier run in `out`
    (default RUN/profile)."""

    spec: str
    device: str = "cpu"
    size: tuple[int, int] | None = None
    out: str | None = None
    choice: str | None = None
    validate: int = 0
    seed: int = 0
    protocol: Protocol = field(factory=Protocol)
    device_options: dict[str, str] = field(factory=dict)
    devices_dir: str | None = None
    resume: bool = False
    jobs: int = 1
    fit: int = 0
    swaps: bool = False


def profile(run_dir: Path | None, settings: ProfileSettings, ctx: Context) -> Any:
    """Profile into RUN/profile (or `settings.out`; no file when both are None); returns the record."""
    from archc.runtime.profile.run import Request, execute

    s = settings
    checked = parse(s.spec)
    out = None if run_dir is None and s.out is None else folder(run_dir or Path(), s.out, "profile")
    req = Request(
        checked,
        s.device,
        s.size,
        out,
        s.protocol,
        s.device_options,
        s.devices_dir,
        choice_of(checked, s.choice) if s.choice else None,
        s.validate,
        s.seed,
        s.resume,
        s.fit,
        s.swaps,
    )
    executor = ctx.executor(s.jobs)
    record, _ = execute(req, lambda key: ctx.notes.print(f"[dim]profiled {key}[/dim]"), executor)
    return record
