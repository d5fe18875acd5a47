"""`archc calibrate`: fit a modelled device to measured latencies and write its device file.

A measurements file is either an `archc profile` record (`latency.json`: every block, the fixed
part, the baseline and every validated network become a measurement) or JSON of the form

    {"measurements": [
        {"spec": "specs/nafnet_tiny.arch", "choice": "enc1=dsconv", "size": [32, 32], "latency_ms": 0.61},
        {"block": "naf(sca=off)", "channels": 16, "size": [64, 64], "latency_ms": 0.21},
        {"net": "resnet50", "latency_ms": 1.638, "split": "test", "source": "..."}
     ]}

(`net` names a calibration network of `calibnets.py`, at its published input size unless `size`
is given). `split` = `train` / `test` pins an entry to one side; the others are split at random
(`holdout` share to test, seeded). Relative paths are resolved against the file's folder first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import evolve, frozen

from archc.errors import ArchError, ProfileError

from . import devicefile, fit
from .costmodel import DeviceModel, OpTable
from .graph import profile_graph
from .workload import Workload


@frozen
class Entry:
    """One measured workload from a measurements file."""

    name: str
    workload: Workload
    latency_ms: float
    split: str | None = None


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ProfileError(f"cannot read measurements file {path}: {exc}", code="E0830") from None


def _resolve(base: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() or not (base / p).exists() else base / p


def _size(raw: Any, where: str) -> tuple[int, int]:
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, int) and v > 0 for v in raw)):
        raise ProfileError(f"{where}: `size` must be [height, width]", code="E0830")
    return (raw[0], raw[1])


def _spec_entry(base: Path, item: Mapping[str, Any], where: str) -> Workload:
    from archc.compiler.choice import split_choice_text
    from archc.compiler.frontend import parse, parse_block

    from .table import network_workload

    spec = parse(_resolve(base, str(item["spec"])))
    choice = {slot: parse_block(text) for slot, text in split_choice_text(str(item.get("choice") or ""))}
    size = _size(item.get("size"), where)
    return network_workload(spec, choice, size, f"net:{item.get('choice') or 'baseline'}")


def _block_entry(item: Mapping[str, Any], where: str) -> Workload:
    from archc.compiler.frontend import parse_block

    from .table import block_workload

    return block_workload(parse_block(str(item["block"])), int(item["channels"]), _size(item.get("size"), where))


def _net_entry(item: Mapping[str, Any], where: str) -> Workload:
    from . import calibnets

    size = _size(item["size"], where) if "size" in item else None
    return calibnets.workload(str(item["net"]), size)


def _entry(base: Path, item: Any, where: str) -> Entry:
    if not isinstance(item, dict) or not isinstance(item.get("latency_ms"), int | float) or item["latency_ms"] <= 0:
        raise ProfileError(f"{where}: each measurement needs a positive `latency_ms`", code="E0830")
    split = item.get("split")
    if split not in (None, "train", "test"):
        raise ProfileError(f"{where}: `split` must be `train` or `test`, not {split!r}", code="E0830")
    if "spec" in item:
        w = _spec_entry(base, item, where)
    elif "block" in item:
        w = _block_entry(item, where)
    elif "net" in item:
        w = _net_entry(item, where)
    else:
        raise ProfileError(f"{where}: a measurement names a `spec`, a `block` or a `net`", code="E0830")
    return Entry(str(item.get("name") or w.key), w, float(item["latency_ms"]), split)


_KEY = re.compile(r"^(?P<name>.+)@(?P<c>\d+)x(?P<h>\d+)x(?P<w>\d+)$")


def _record_items(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """latency.json -> measurement items (blocks by key; networks by their choice)."""
    choices = {r["key"]: r["choice"] for r in (data.get("fixed"), data.get("baseline")) if r}
    items = []
    for key, fig in (data.get("measurements") or {}).items():
        m = _KEY.match(key)
        if m is None:
            continue
        size = [int(m["h"]), int(m["w"])]
        name, lat = m["name"], fig["latency_ms"]
        if key in choices:
            items.append({"spec": data["spec"], "choice": choices[key], "size": size, "latency_ms": lat})
        elif name.startswith("net:"):
            items.append({"spec": data["spec"], "choice": name[4:], "size": size, "latency_ms": lat})
        else:
            items.append({"block": name, "channels": int(m["c"]), "size": size, "latency_ms": lat})
    size = list(data.get("input_size") or [])
    for net in data.get("networks") or []:  # networks compared end to end (--choice, --validate)
        items.append({"spec": data["spec"], "choice": net["choice"], "size": size, "latency_ms": net["measured_ms"]})
    return items


def load_measurements(path: str | Path) -> list[Entry]:
    """Entries of a measurements file or of an `archc profile` latency.json."""
    p = Path(path)
    data = _read(p)
    if isinstance(data, dict) and str(data.get("format", "")).startswith("archc-latency/"):
        items = _record_items(data)
    elif isinstance(data, dict) and isinstance(data.get("measurements"), list):
        items = data["measurements"]
    else:
        raise ProfileError(f'{p}: expected {{"measurements": [...]}} or an archc latency.json', code="E0830")
    if not items:
        raise ProfileError(f"{p} holds no measurements", code="E0830")
    try:
        return [_entry(p.parent, item, f"{p} measurement {i + 1}") for i, item in enumerate(items)]
    except ProfileError:
        raise
    except ArchError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"{p}: malformed measurement ({type(exc).__name__}: {exc})", code="E0830") from None


def split(entries: Sequence[Entry], holdout: float, seed: int) -> tuple[list[Entry], list[Entry]]:
    """(train, test): pinned entries where they are pinned, the rest `holdout` share to test."""
    free = [e for e in entries if e.split is None]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(free))
    n_test = int(round(holdout * len(free)))
    test_idx = set(order[:n_test].tolist())
    train = [e for e in entries if e.split == "train"] + [e for i, e in enumerate(free) if i not in test_idx]
    test = [e for e in entries if e.split == "test"] + [e for i, e in enumerate(free) if i in test_idx]
    return train, test


def samples(entries: Sequence[Entry], model: DeviceModel) -> list[fit.Sample]:
    return [
        fit.Sample(e.name, OpTable.of(profile_graph(e.workload.onnx_model()), model), e.latency_ms / 1e3)
        for e in entries
    ]


def _brief(rep: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("n", "within_10pct", "rmspe_pct", "median_abs_error_pct", "max_abs_error_pct")
    return {k: rep[k] for k in keys if k in rep}


def calibrate(
    start: DeviceModel,
    entries: Sequence[Entry],
    names: Sequence[str] = fit.DEFAULT_FIT,
    holdout: float = 0.25,
    seed: int = 0,
    new_name: str | None = None,
    source: str = "",
) -> tuple[DeviceModel, dict[str, Any]]:
    """Fit `start` to the train part of `entries`; report the fit on train and held-out test."""
    train, test = split(entries, holdout, seed)
    if not train:
        raise ProfileError(
            "no measurements left to fit after the hold-out split",
            code="E0831",
            help="lower --holdout or add measurements",
        )
    tr, te = samples(train, start), samples(test, start)
    fitted = fit.fit(tr, start, names)
    rep: dict[str, Any] = {
        "start": _brief(fit.report(te or tr, start)),
        "train": fit.report(tr, fitted),
        "test": fit.report(te, fitted) if te else None,
    }
    record = {
        "method": "bounded linear least squares on relative error (archc calibrate)",
        "measurements": source,
        "fitted": list(names),
        "train_n": len(tr),
        "test_n": len(te),
        "train_fit": _brief(rep["train"]),
        "heldout_fit": _brief(rep["test"]) if te else "none held out",
    }
    name = new_name or start.name
    out = evolve(
        fitted,
        name=name,
        calibration=record,
        description=start.description if new_name is None else f"{start.description} (calibrated)",
    )
    return out, rep


def write(model: DeviceModel, path: str | Path) -> None:
    header = (
        f"archc device file: {model.name} (modelled)\nWritten by `archc calibrate`; every latency "
        "computed from it is a model estimate, not a measurement."
    )
    devicefile.save(model, path, header)
