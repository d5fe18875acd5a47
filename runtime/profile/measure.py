"""The measurement protocol: warm-up, pinned threads, repeats until the median is stable.

Every measured figure carries the protocol it was taken under (threads, repeats, warm-up,
library versions, machine), because a latency without its protocol cannot be compared with
another (nn-Meter #83: predictions "did not match" measurements taken differently).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from attrs import field, frozen

from archc.errors import ProfileError
from archc.runtime.accel.accelerator import cpu_model

KINDS = ("measured", "modelled", "remote")


def _positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value <= 0:
        raise ValueError(f"`{attribute.name}` must be positive, not {value}")


@frozen
class Protocol:
    """How one workload is timed.

    `warmup` untimed runs first; then timed runs until, after `min_repeats`, the median is stable:
    it moved by less than `rel_tol` over the last `check_every` runs *and* its standard error
    (from the IQR: 1.25 x IQR / 1.35 / sqrt(n)) is below `rel_tol` of it, so noisy workloads get
    more runs. `max_repeats` runs or `time_cap_s` seconds stop it earlier (`min_repeats` are
    always taken); a run stopped that way is reported `stable: false`.

    `clock` is `wall` (elapsed time, the default) or `cpu` (the process's CPU time): on a shared
    machine whose other jobs take the cores, CPU time of a 1-thread run still measures the work
    (but not stalls from memory contention), where wall time measures the queue.
    """

    threads: int = field(default=1, validator=_positive)
    warmup: int = field(default=3, validator=attrs.validators.ge(0))
    min_repeats: int = field(default=10, validator=_positive)
    max_repeats: int = field(default=200, validator=_positive)
    time_cap_s: float = field(default=20.0, validator=_positive)
    rel_tol: float = field(default=0.01, validator=_positive)
    check_every: int = field(default=5, validator=_positive)
    clock: str = field(default="wall", validator=attrs.validators.in_(("wall", "cpu")))

    def __attrs_post_init__(self) -> None:
        if self.clock == "cpu" and self.threads != 1:
            raise ValueError("clock `cpu` (this process's CPU time) is a latency only with 1 thread")

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@frozen
class Measurement:
    """One latency figure in milliseconds, labelled with how it was obtained.

    `kind` is `measured` (timed on this machine), `modelled` (a cost model's estimate) or
    `remote` (timed on another device: a phone over adb, a hosted AI Hub device).
    """

    median_ms: float
    kind: str
    iqr_ms: float | None = None
    repeats: int = 0
    stable: bool = True
    protocol: Mapping[str, Any] = field(factory=dict)
    extra: Mapping[str, Any] = field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        pinned = {k: self.protocol[k] for k in ("threads", "warmup") if k in self.protocol}
        return {
            "latency_ms": self.median_ms,
            "iqr_ms": self.iqr_ms,
            "repeats": self.repeats,
            "stable": self.stable,
            "label": self.kind,
            **pinned,
            **dict(self.extra),
        }

    def scaled(self, factor: float) -> Measurement:
        """The same figure for `factor` copies of the workload (a slot of N identical blocks)."""
        iqr = None if self.iqr_ms is None else self.iqr_ms * factor
        return attrs.evolve(self, median_ms=self.median_ms * factor, iqr_ms=iqr)


def quartiles(samples: list[float]) -> tuple[float, float, float]:
    """(q25, median, q75) of at least one sample."""
    if len(samples) < 2:
        return samples[0], samples[0], samples[0]
    q = statistics.quantiles(samples, n=4, method="inclusive")
    return q[0], statistics.median(samples), q[2]


def _stable(samples: list[float], last_median: float | None, p: Protocol) -> tuple[bool, float]:
    q25, med, q75 = quartiles(samples)
    if last_median is None:
        return False, med
    std_err = 1.2533 * (q75 - q25) / 1.349 / len(samples) ** 0.5
    return abs(med - last_median) <= p.rel_tol * med and std_err <= p.rel_tol * med, med


_CLOCKS = {"wall": "perf_counter", "cpu": "process_time"}


def time_runs(run: Callable[[], object], p: Protocol) -> tuple[list[float], bool]:
    """Run `run` under protocol `p`; returns (seconds per timed run, whether the median settled)."""
    for _ in range(p.warmup):
        run()
    samples: list[float] = []
    clock = getattr(time, _CLOCKS[p.clock])
    start = time.perf_counter()
    last: float | None = None
    stable = False
    while len(samples) < p.max_repeats:
        t0 = clock()
        run()
        samples.append(clock() - t0)
        if len(samples) < p.min_repeats:
            continue
        if (len(samples) - p.min_repeats) % p.check_every == 0:
            stable, last = _stable(samples, last, p)
            if stable:
                break
        if time.perf_counter() - start > p.time_cap_s:
            break
    return samples, stable


def measure(run: Callable[[], object], p: Protocol, record: Mapping[str, Any]) -> Measurement:
    """Time `run` under `p`; median and IQR in ms, with `record` (the full protocol) attached."""
    own, process = time.thread_time(), time.process_time()
    try:
        samples, stable = time_runs(run, p)
    except ProfileError:
        raise
    except Exception as exc:  # a runtime failing on a graph is a profile error, not our bug
        raise ProfileError(f"the workload failed to run: {type(exc).__name__}: {exc}", code="E0804") from exc
    q25, med, q75 = quartiles(samples)
    # the fastest run and the machine's load say how much other processes disturbed the median
    extra: dict[str, Any] = {"min_ms": min(samples) * 1e3}
    extra["other_threads_pct"] = other_threads_pct(time.thread_time() - own, time.process_time() - process)
    if p.threads == 1 and extra["other_threads_pct"] > 20:
        warnings.warn(
            f"a 1-thread timing spent {extra['other_threads_pct']:.0f} % of its CPU time on other threads: "
            "the runtime does not keep to its thread setting, or other work runs in this process",
            RuntimeWarning,
            stacklevel=2,
        )
    if hasattr(os, "getloadavg"):
        extra["load_1min"] = round(os.getloadavg()[0], 2)
    return Measurement(med * 1e3, "measured", (q75 - q25) * 1e3, len(samples), stable, dict(record), extra)


def other_threads_pct(own_s: float, process_s: float) -> float:
    """The share of the process's CPU time over the timed runs (`process_s`) that threads other than
    the timing one spent (`own_s`: the timing thread's): about 0 for a 1-thread runtime, which runs
    on its caller. A runtime that hands work to a pool the protocol did not pin shows here."""
    return round(100 * max(0.0, process_s - own_s) / process_s, 1) if process_s > 0 else 0.0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "host": platform.node(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
