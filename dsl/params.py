"""Helpers for block parameter classes: validators with user-facing messages, canonical text."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import attrs

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def int_range(lo: int, hi: int) -> Validator:
    """Accept whole numbers in [lo, hi]."""

    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"`{attribute.name}` must be a whole number")
        if not lo <= value <= hi:
            raise ValueError(f"`{attribute.name}` must be between {lo} and {hi}, not {value}")

    return check


def odd_int_range(lo: int, hi: int) -> Validator:
    """Accept odd whole numbers in [lo, hi] (kernel sizes with symmetric padding)."""
    base = int_range(lo, hi)

    def check(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        base(inst, attribute, value)
        if value % 2 == 0:
            raise ValueError(f"`{attribute.name}` must be odd so the block keeps its size, not {value}")

    return check


def even_int_range(lo: int, hi: int) -> Validator:
    """Accept even whole numbers in [lo, hi] (channel counts that SimpleGate halves)."""
    base = int_range(lo, hi)

    def check(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        base(inst, attribute, value)
        if value % 2:
            raise ValueError(f"`{attribute.name}` must be even (SimpleGate halves the channels), not {value}")

    return check


def one_of(choices: Collection[str]) -> Validator:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise ValueError(f"`{attribute.name}` must be one of {sorted(choices)}, not {value!r}")

    return check


def is_switch(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"`{attribute.name}` must be `on` or `off`")


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def non_default_items(params: Any) -> list[tuple[str, Any]]:
    """The (name, value) pairs of an attrs params instance that differ from their defaults."""
    out = []
    for f in attrs.fields(type(params)):
        value = getattr(params, f.name)
        if f.default is attrs.NOTHING or value != f.default:
            out.append((f.name, value))
    return out


def canonical_block(kind: str, params: Any) -> str:
    """`naf`, `naf(sca=off)`: the kind plus every non-default parameter, in declaration order."""
    items = non_default_items(params)
    if not items:
        return kind
    return kind + "(" + ", ".join(f"{k}={format_value(v)}" for k, v in items) + ")"


def params_to_json(params: Any) -> dict[str, Any]:
    return attrs.asdict(params)
