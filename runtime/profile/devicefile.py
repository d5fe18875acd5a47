"""Device files: a modelled device described in TOML or JSON, read, checked and written.

    [device]    name, description, precision, resolution = [H, W], resolution_note, sources
    [compute]   dense_macs_per_s, depthwise_macs_per_s, pointwise_macs_per_s, elementwise_per_s
    [memory]    bandwidth_bytes_per_s, onchip_bytes, bytes_per_element, channel_granule
    [overhead]  per_op_s, per_network_s
    [penalty.TAG] per_op_s, per_element_s      TAG: layernorm | global_pool | split | depth_to_space
    [calibration] free-form record of how the coefficients were obtained

Every key is optional (defaults: `costmodel.DeviceModel`); a key that is unknown, of the wrong
type or out of range is reported at its line in the file, with "did you mean" for typos.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomllib

from archc.compiler.files import write_text_atomic
from archc.diagnostics import Span, quoted_list, unknown_name_help
from archc.errors import ProfileError

from .costmodel import DeviceModel, Penalty
from .graph import PENALTIES

Check = Callable[[Any], str | None]  # returns a complaint or None


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) else "must be a string"


def _texts(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
    return None if ok else "must be a list of strings"


def _positive(v: Any) -> str | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
    return None if ok else f"must be a positive number, not {v!r}"


def _non_negative(v: Any) -> str | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    return None if ok else f"must be a number >= 0, not {v!r}"


def _whole(v: Any) -> str | None:
    return (
        None if isinstance(v, int) and not isinstance(v, bool) and v > 0 else f"must be a whole number > 0, not {v!r}"
    )


def _size(v: Any) -> str | None:
    ok = isinstance(v, list) and len(v) == 2 and all(_whole(x) is None for x in v)
    return None if ok else f"must be [height, width] in pixels, not {v!r}"


SCHEMA: dict[str, dict[str, Check]] = {
    "device": {
        "name": _text,
        "description": _text,
        "precision": _text,
        "resolution": _size,
        "resolution_note": _text,
        "sources": _texts,
    },
    "compute": {
        "dense_macs_per_s": _positive,
        "depthwise_macs_per_s": _positive,
        "pointwise_macs_per_s": _positive,
        "elementwise_per_s": _positive,
    },
    "memory": {
        "bandwidth_bytes_per_s": _positive,
        "onchip_bytes": _non_negative,
        "bytes_per_element": _whole,
        "channel_granule": _whole,
    },
    "overhead": {"per_op_s": _non_negative, "per_network_s": _non_negative},
}
PENALTY_KEYS: dict[str, Check] = {"per_op_s": _non_negative, "per_element_s": _non_negative}
TABLES = (*SCHEMA, "penalty", "calibration")


def key_span(path: str, text: str, table: str, key: str) -> Span | None:
    """Where `key` of `[table]` is written (TOML headers or JSON nesting, best effort)."""
    if path.endswith(".json"):
        return _json_span(path, text, table, key)
    current = ""
    for n, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).replace('"', "")
            if not key and current == table:
                return Span(path, n, line.index("[") + 1, n, line.index("]") + 2)
            continue
        m = re.match(rf"\s*({re.escape(key)})\s*=", line) if key else None
        if m and current == table:
            return Span(path, n, m.start(1) + 1, n, m.end(1) + 1)
    return None


def _json_span(path: str, text: str, table: str, key: str) -> Span | None:
    pos = 0
    for part in [*table.split("."), key]:
        if not part:
            continue
        found = text.find(f'"{part}"', pos)
        if found < 0:
            return None
        pos = found
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    word = key or table.split(".")[-1]
    return Span(path, line, col, line, col + len(word) + 2)


def _error(path: str, text: str, table: str, key: str, message: str, help: str | None = None) -> ProfileError:
    span = key_span(path, text, table, key)
    where = f"[{table}] {key}".strip() if key else f"[{table}]"
    return ProfileError.at(
        span, f"device file {path}: {where} {message}", code="E0803", help=help, sources={path: text}
    )  # type: ignore[return-value]


def _check_keys(path: str, text: str, table: str, values: Any, schema: Mapping[str, Check]) -> None:
    if not isinstance(values, dict):
        raise _error(path, text, table, "", "must be a table of keys")
    for key, value in values.items():
        if key not in schema:
            raise _error(
                path, text, table, key, "is not a known key",
                unknown_name_help(key, schema, f"known keys: {quoted_list(schema)}"),
            )
        problem = schema[key](value)
        if problem:
            raise _error(path, text, table, key, problem)


def _check(path: str, text: str, data: Mapping[str, Any]) -> None:
    for table, values in data.items():
        if table not in TABLES:
            raise _error(
                path, text, table, "", "is not a known table",
                unknown_name_help(table, TABLES, f"known tables: {quoted_list(TABLES)}", shown="`[{}]`"),
            )
        if table in SCHEMA:
            _check_keys(path, text, table, values, SCHEMA[table])
    penalties = data.get("penalty", {})
    if not isinstance(penalties, dict):
        raise _error(path, text, "penalty", "", "must hold one table per penalised pattern")
    for tag, values in penalties.items():
        if tag not in PENALTIES:
            raise _error(
                path, text, f"penalty.{tag}", "", "is not a known penalty",
                unknown_name_help(tag, PENALTIES, f"known: {quoted_list(PENALTIES)}", shown="`[penalty.{}]`"),
            )
        _check_keys(path, text, f"penalty.{tag}", values, PENALTY_KEYS)


def _parse(path: str, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(path, exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
        raise ProfileError.at(
            span, f"device file {path} is not valid JSON: {exc.msg}", code="E0802", sources={path: text}
        ) from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        where = Span(path, int(m.group(1)), int(m.group(2)), int(m.group(1)), int(m.group(2)) + 1) if m else None
        raise ProfileError.at(
            where, f"device file {path} is not valid TOML: {exc}", code="E0802", sources={path: text}
        ) from None
    if not isinstance(data, dict):
        raise ProfileError(f"device file {path} must hold tables ([device], [compute], ...)", code="E0802")
    return data


def from_data(data: Mapping[str, Any], path: str, stem: str) -> DeviceModel:
    dev, comp, mem, over = (dict(data.get(t, {})) for t in ("device", "compute", "memory", "overhead"))
    res = dev.pop("resolution", None)
    pens = {t: Penalty(**v) for t, v in dict(data.get("penalty", {})).items()}
    return DeviceModel(
        name=dev.pop("name", stem),
        resolution=tuple(res) if res else None,  # type: ignore[arg-type]
        sources=tuple(dev.pop("sources", ())),
        **dev,
        **comp,
        **mem,
        **over,
        penalties=pens,
        calibration=dict(data.get("calibration", {})),
        path=path,
    )


def load(path: str | Path) -> DeviceModel:
    """Read and check one device file; raises ProfileError pointing at the bad key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read device file {p}: {exc.strerror}", code="E0802") from None
    data = _parse(str(p), text)
    _check(str(p), text, data)
    return from_data(data, str(p), p.stem)


def to_data(model: DeviceModel) -> dict[str, Any]:
    dev: dict[str, Any] = {"name": model.name, "description": model.description, "precision": model.precision}
    if model.resolution:
        dev["resolution"] = list(model.resolution)
    dev.update({"resolution_note": model.resolution_note, "sources": list(model.sources)})
    return {
        "device": dev,
        "compute": {k: getattr(model, k) for k in SCHEMA["compute"]},
        "memory": {k: getattr(model, k) for k in SCHEMA["memory"]},
        "overhead": {k: getattr(model, k) for k in SCHEMA["overhead"]},
        "penalty": {
            t: {"per_op_s": p.per_op_s, "per_element_s": p.per_element_s} for t, p in sorted(model.penalties.items())
        },
        "calibration": dict(model.calibration),
    }


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.6g}" if "e" in f"{v:.6g}" or "." in f"{v:.6g}" else f"{v:.6g}.0"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        inner = [_toml_value(x) for x in v]
        one_line = "[" + ", ".join(inner) + "]"
        return one_line if len(one_line) < 90 else "[\n" + "".join(f"    {x},\n" for x in inner) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_table(name: str, values: Mapping[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in values.items()]
    return [*lines, ""]


def dumps_toml(model: DeviceModel, header: str = "") -> str:
    data = to_data(model)
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] + ([""] if header else [])
    for table in ("device", "compute", "memory", "overhead"):
        lines += _toml_table(table, data[table])
    for tag, values in data["penalty"].items():
        lines += _toml_table(f"penalty.{tag}", values)
    if data["calibration"]:
        lines += _toml_table("calibration", data["calibration"])
    return "\n".join(lines).rstrip() + "\n"


def save(model: DeviceModel, path: str | Path, header: str = "") -> None:
    """Write `model` as TOML, or as JSON when `path` ends in `.json` (atomically)."""
    p = Path(path)
    text = json.dumps(to_data(model), indent=2) + "\n" if p.suffix == ".json" else dumps_toml(model, header)
    write_text_atomic(p, text)
