"""Resolution of `exclude top K by METRIC`: which searchable slots a saliency run excludes.

Each rule ranks the searchable slots (not those fixed by a static `exclude SLOT`) by the slot's
`sum` score of METRIC in the run's saliency.json, highest first, and excludes the first K; ties
keep network order. Several rules exclude the union of their picks. The run must have scored
every slot the spec has (same name and blocks), and METRIC; a NaN or infinite score among
the ranked slots is an error rather than a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from archc.dsl.spec import SaliencyRule, Slot, Spec
from archc.errors import SaliencyError

from .report import load, saliency_file, unit_score

NORM = "sum"


@frozen
class RuleResolution:
    """One rule, with every searchable slot's score (highest first) and the K it picks."""

    rule: SaliencyRule
    ranking: tuple[tuple[str, float], ...]

    @property
    def picked(self) -> tuple[tuple[str, float], ...]:
        return self.ranking[: self.rule.k]

    @property
    def text(self) -> str:
        return f"exclude top {self.rule.k} by {self.rule.metric}"


@frozen
class Resolution:
    source: Path
    rules: tuple[RuleResolution, ...]

    @property
    def excluded(self) -> tuple[str, ...]:
        """The slots the rules exclude, in the order the rules pick them, without repeats."""
        return tuple(dict.fromkeys(name for r in self.rules for name, _ in r.picked))

    def reason(self, slot: str) -> str | None:
        """`exclude top K by METRIC (score)` for the first rule that picks `slot`, else None."""
        for r in self.rules:
            for name, score in r.picked:
                if name == slot:
                    return f"{r.text} ({score:.4g})"
        return None


def _entries(spec: Spec, data: Mapping[str, Any], source: Path) -> dict[str, Mapping[str, Any]]:
    entries = {e["name"]: e for e in data.get("slots", [])}
    assert spec.search is not None
    for slot in (*spec.search.slots, *spec.search.fixed):
        e = entries.get(slot.name)
        if e is None or (e["stage"], e["start"], e["stop"]) != (slot.stage, slot.start, slot.stop):
            raise SaliencyError(
                f"{source} does not score slot `{slot.name}` of `{spec.name}`: it was computed for slots "
                f"{', '.join(entries) or '(none)'}",
                code="E1012",
                help="rerun `archc saliency` with this spec",
            )
    return entries


def _rank(
    rule: SaliencyRule,
    slots: tuple[Slot, ...],
    entries: Mapping[str, Mapping[str, Any]],
    metrics: Mapping[str, Any],
    source: Path,
) -> RuleResolution:
    if rule.metric not in metrics:
        raise SaliencyError(
            f"{source} has no `{rule.metric}` scores (it has {', '.join(metrics) or 'none'})",
            code="E1013",
            help=f"rerun `archc saliency` with `--metrics {rule.metric}` (or all)",
        )
    scores = [(s.name, unit_score(entries[s.name], rule.metric, NORM)) for s in slots]
    bad = [(n, v) for n, v in scores if not math.isfinite(v)]
    if bad:
        listed = ", ".join(f"`{n}` is {v}" for n, v in bad)
        raise SaliencyError(
            f"cannot rank the slots by {rule.metric}: {listed}",
            code="E1014",
            help="see the notes in the saliency file; choose another metric or rerun with a "
            "smaller --crop (synflow overflows on large inputs)",
        )
    order = sorted(range(len(scores)), key=lambda i: -scores[i][1])  # stable: ties keep network order
    return RuleResolution(rule, tuple(scores[i] for i in order))


def resolve_data(spec: Spec, data: Mapping[str, Any], source: str | Path = "<saliency>") -> Resolution:
    """Resolve `spec`'s saliency rules against a loaded saliency.json object."""
    src = Path(source)
    if spec.search is None or not spec.search.saliency_rules:
        return Resolution(src, ())
    entries = _entries(spec, data, src)
    metrics = data.get("metrics", {})
    return Resolution(
        src, tuple(_rank(r, spec.search.slots, entries, metrics, src) for r in spec.search.saliency_rules)
    )


def resolve(spec: Spec, saliency: str | Path) -> Resolution:
    """The slots that `spec`'s `exclude top K by METRIC` lines exclude, given the saliency run
    `saliency` (a run folder or its saliency.json), with the scores behind each pick.

    Raises SaliencyError when the file is missing or malformed, lacks a slot or the metric, or a
    ranked score is not finite.
    """
    path = saliency_file(saliency)
    data = load(path)
    try:
        return resolve_data(spec, data, path)
    except (KeyError, TypeError, ValueError) as exc:
        raise SaliencyError(
            f"{path} is malformed ({type(exc).__name__}: {exc})",
            code="E1011",
            help="pass the saliency.json that `archc saliency` wrote",
        ) from exc
