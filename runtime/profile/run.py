"""One `archc profile` run: resolve the device, build (or reload) the block table, compare
networks, and keep `RUN/latency.json` current throughout.

A failure part-way (a phone unplugged, a job rejected, Ctrl-C) marks the record `failed` with
its message and keeps every figure taken so far; `resume=True` reuses them on the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from archc.dsl.spec import Block, Spec
from archc.errors import ArchError, ProfileError
from archc.runtime.cluster import Executor

from . import record as rec
from .backend import Profiler
from .devices import resolve
from .measure import Protocol
from .scale_fit import fit_scale
from .swaps import measure_swaps
from .table import LatencyTable, Progress, build_table
from .validate import compare, validate

DEFAULT_SIZE = (256, 256)


@frozen
class Request:
    """What to profile: a checked spec on a device, and what to do with the table."""

    spec: Spec
    device: str
    size: tuple[int, int] | None = None  # None: the device's stated resolution, else 256 x 256
    out: Path | None = None
    protocol: Protocol = field(factory=Protocol)
    options: Mapping[str, str] = field(factory=dict)
    devices_dir: str | None = None
    choice: Mapping[str, Block] | None = None
    validate_n: int = 0
    seed: int = 0
    resume: bool = False
    fit_n: int = 0  # whole networks besides the baseline the scale is fitted on (`scale_fit.py`)
    swaps: bool = False  # time every single-slot swap in the network and predict with them (`swaps.py`)


def input_size(req: Request, profiler: Profiler) -> tuple[int, int]:
    if req.size is not None:
        return req.size
    model = getattr(profiler, "model", None)
    return tuple(model.resolution) if model is not None and model.resolution else DEFAULT_SIZE  # type: ignore[return-value]


def header(req: Request, profiler: Profiler, size: tuple[int, int]) -> dict[str, Any]:
    return {
        "spec": req.spec.path,
        "arch": req.spec.name,
        "input_size": list(size),
        "device": {"name": profiler.name, "kind": profiler.kind, "description": profiler.description},
        "label": profiler.kind,
        "protocol": profiler.record(),
    }


def _reuse(req: Request, head: Mapping[str, Any]) -> dict[str, Any]:
    if not (req.resume and req.out is not None and (req.out / rec.FILENAME).is_file()):
        return {}
    return rec.reusable(rec.read(req.out / rec.FILENAME), head)


def execute(
    req: Request, progress: Progress = lambda key: None, executor: Executor | None = None
) -> tuple[rec.RunRecord, LatencyTable]:
    """Run `req`, the block table's profiles on `executor` where the device allows (default: here,
    one at a time); returns the finished record and the table. Raises ProfileError on failure,
    after writing what was measured (status `failed`)."""
    profiler = resolve(req.device, req.protocol, req.options, req.devices_dir)
    size = input_size(req, profiler)
    head = header(req, profiler, size)
    record = rec.RunRecord(req.out / rec.FILENAME if req.out is not None else None, head)
    reuse = _reuse(req, head)
    record.flush()
    try:
        table = build_table(req.spec, profiler, size, record, reuse, progress, executor)
        fitted: list[tuple[int, ...]] = []
        if req.fit_n > 0:
            table, fitted = fit_scale(table, profiler, req.fit_n, record, req.seed, progress)
        if req.swaps:
            table = measure_swaps(table, profiler, record, progress)
        if req.choice is not None:
            compare(table, profiler, req.choice, record, "--choice", progress)
        if req.validate_n > 0:
            validate(table, profiler, req.validate_n, record, req.seed, progress, skip=fitted)
    except ArchError as exc:
        record.finish(exc.diagnostics[0].message if exc.diagnostics else str(exc))
        raise
    except KeyboardInterrupt:
        record.finish("interrupted")
        raise
    except Exception as exc:  # a backend's own failure: keep the figures, report one line
        record.finish(f"{type(exc).__name__}: {exc}")
        raise ProfileError(
            f"profiling failed on {profiler.name}: {type(exc).__name__}: {exc}",
            code="E0804",
            help=f"figures measured so far are kept in {record.path}" if record.path else None,
        ) from exc
    finally:
        profiler.close()
    record.finish()
    return record, table
