"""What the search stage decides before it searches: the space (the saliency run resolving the
spec's `exclude top K` lines), the latency source (a block table, one per precision, or a
proxy), the calibration batch of a precision search and the additive prediction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archc.errors import SearchError


def space(spec: Any, saliency: str | None) -> Any:
    from archc.compiler.space import SearchSpace

    excluded: tuple[str, ...] = ()
    if spec.search is not None and spec.search.saliency_rules:
        if saliency is None:
            raise SearchError(
                "the spec has `exclude top K by METRIC` but no saliency run was given",
                code="E0711",
                help="run `archc saliency ... --out RUN` and pass `--saliency RUN`",
            )
        from archc.runtime.saliency.resolve import resolve

        excluded = resolve(spec, saliency).excluded
    return SearchSpace.of(spec, exclude=excluded)


def block_latency(
    spec: Any, space: Any, device: str, latency: str | None, out: Path, size: tuple[int, int] | None
) -> tuple[Any, str]:
    """The block table (`latency`, a latency.json to reuse, else profiled into OUT/profile) and how
    its figures were obtained."""
    from archc.runtime.profile.run import Request, execute
    from archc.runtime.profile.table import table_from_record

    if latency is not None:
        data = json.loads(Path(latency).read_text())
        table = table_from_record(spec, data)
        kind = data.get("label", data.get("device", {}).get("kind", "measured"))
    else:
        record, table = execute(Request(spec, device, size=size, out=out / "profile"))
        kind = record.label  # the device says how its figures are obtained; a phone's are measured
    source = "modelled" if kind == "modelled" else "predicted from measured block table"
    return table, source


def precision_latency(
    spec: Any, space: Any, device: str, latency: str | None, out: Path, size: tuple[int, int] | None
) -> tuple[Any, str, dict[str, Any]]:
    """Latency of block-and-precision rows: one block table per precision (`runtime/profile/precision.py`)."""
    from archc.runtime.profile.precision import MODELLED, MixedRowsLatency, mixed_latency, precision_tables

    if latency is not None:
        raise SearchError(
            "`--latency` reuses one precision's block table; a precision search builds one per precision",
            code="E0714",
            help="drop `--latency`",
        )
    wanted = sorted({p for s in space.slots for p in s.precisions})
    tables = precision_tables(spec, device, wanted, size, out / "profile")
    rows = MixedRowsLatency(*mixed_latency(space, tables))
    meta: dict[str, Any] = {"precisions": wanted, "latency_tables": {p: t.size for p, t in tables.items()}}
    if device in MODELLED:
        return rows, "modelled", meta
    from archc.runtime.accel.accelerator import int8_instructions

    meta["cpu_int8"] = int8_instructions()
    return rows, "predicted from measured block tables (QDQ in ONNX Runtime)", meta


def proxy_latency(spec: Any, space: Any, proxy: str) -> tuple[Any, str, dict[str, Any]]:
    """A proxy in place of a device (`runtime/profile/proxy.py`): a count, labelled as such."""
    from archc.runtime.profile.proxy import SOURCE, UNIT, proxy_table

    if space.has_precision:
        raise SearchError(
            "a latency proxy prices blocks, not precisions",
            code="E0714",
            help="drop `--latency-proxy` or the spec's `precision` line",
        )
    table = proxy_table(proxy, spec, space)
    return table, SOURCE, {"latency_proxy": proxy, "latency_unit": UNIT, "proxy_table": table.record()}


def rows_and_source(
    spec: Any, space: Any, device: str, latency: str | None, proxy: str | None, out: Path, size: tuple[int, int] | None
) -> tuple[Any, str, str, dict[str, Any], dict[str, Any]]:
    """(latency rows, their source, the device the search names, precision meta, proxy meta)."""
    from archc.runtime.search.objectives import latency_matrix, rows_latency

    if proxy is not None:
        table, source, proxy_meta = proxy_latency(spec, space, proxy)
        proxy_meta["verified_on"] = device  # a proxy prices nothing: the verify stage times on the real device
        return rows_latency(*latency_matrix(space, table.predict)), source, f"proxy:{proxy}", {}, proxy_meta
    if space.has_precision:
        rows, source, precision_meta = precision_latency(spec, space, device, latency, out, size)
        return rows, source, device, precision_meta, {}
    table, source = block_latency(spec, space, device, latency, out, size)
    return rows_latency(*latency_matrix(space, table.predict)), source, device, {}, {}


def calibration_batch(data: str, images: int, crop: int) -> Any:
    import numpy as np
    import torch

    from archc.runtime.data.calibration import calibration_images

    return torch.from_numpy(np.concatenate(calibration_images(data, images, crop, split="train")))


def additive(space: Any, surrogates: str, report: str | None, rows: Any) -> Any:
    """The additive prediction (plug-in drops + the search's latency terms), or why there is none."""
    from archc.runtime.search.additive import load, plugin_report

    path = report if report is not None else plugin_report(surrogates)
    return load(space, path, rows.base, rows.matrix)
