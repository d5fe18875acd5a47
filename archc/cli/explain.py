"""`archc explain`: the resolved search space of a spec: slots, candidates, exclusions, size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archc.api import parse
from archc.compiler.space import SearchSpace
from archc.dsl.spec import SaliencyRule, Slot, Spec
from archc.runtime.saliency.resolve import Resolution, RuleResolution, resolve
from archc.runtime.saliency.units import spec_slots

from .output import console, print_json


def _rule_text(rule: SaliencyRule) -> str:
    return f"exclude top {rule.k} by {rule.metric}"


def _status(slot: Slot, spec: Spec, resolution: Resolution | None) -> str:
    assert spec.search is not None
    if slot in spec.search.fixed:
        return "excluded: exclude SLOT"
    why = resolution.reason(slot.name) if resolution is not None else None
    return f"excluded: {why}" if why else "searchable"


def _slot_row(slot: Slot, spec: Spec, resolution: Resolution | None) -> dict[str, Any]:
    return {
        "name": slot.name,
        "stage": slot.stage,
        "blocks": [slot.start, slot.stop],
        "candidates": [c.canonical for c in slot.candidates],
        "removed": list(slot.excluded),
        "status": _status(slot, spec, resolution),
    }


def _rule_json(r: RuleResolution) -> dict[str, Any]:
    return {
        "rule": r.text,
        "k": r.rule.k,
        "metric": r.rule.metric,
        "resolved": True,
        "picked": [{"slot": n, "score": v} for n, v in r.picked],
        "ranking": [{"slot": n, "score": v} for n, v in r.ranking],
    }


def _unresolved_json(rule: SaliencyRule) -> dict[str, Any]:
    return {"rule": _rule_text(rule), "k": rule.k, "metric": rule.metric, "resolved": False}


def explain_data(spec: Spec, resolution: Resolution | None) -> dict[str, Any]:
    """The resolved space as a JSON-ready object (what `--json` prints)."""
    assert spec.search is not None
    space = SearchSpace.of(spec, exclude=resolution.excluded if resolution else ())
    rules = spec.search.saliency_rules
    return {
        "spec": spec.name,
        "saliency": None if resolution is None else str(resolution.source),
        "slots": [_slot_row(s, spec, resolution) for s in spec_slots(spec)],
        "static_exclusions": [s.name for s in spec.search.fixed],
        "rules": [_rule_json(r) for r in resolution.rules] if resolution else [_unresolved_json(r) for r in rules],
        "saliency_exclusions": list(resolution.excluded) if resolution else [],
        "searchable": [s.name for s in space.slots],
        "radices": list(space.radices),
        "size": space.size,
        "unresolved": bool(rules) and resolution is None,
    }


def _slots_table(data: dict[str, Any]) -> Table:
    table = Table(title=f"search space of {data['spec']}", title_justify="left")
    for col in ("slot", "blocks", "candidates", "status"):
        table.add_column(col)
    for s in data["slots"]:
        a, b = s["blocks"]
        cands = " | ".join(s["candidates"]) + (f"  (removed: {', '.join(s['removed'])})" if s["removed"] else "")
        table.add_row(s["name"], f"{s['stage']}[{a}:{b}]", cands, s["status"])
    return table


def _print_rules(data: dict[str, Any], spec_path: str) -> None:
    for r in data["rules"]:
        if not r["resolved"]:
            console.print(
                f"[yellow]`{r['rule']}` is unresolved[/yellow]: it needs a saliency run. Run "
                f"`archc saliency {spec_path} --weights W --data DIR --out RUN`, then "
                f"`archc explain {spec_path} --saliency RUN`."
            )
            continue
        picked = ", ".join(f"{p['slot']} ({p['score']:.4g})" for p in r["picked"])
        rest = ", ".join(f"{p['slot']} ({p['score']:.4g})" for p in r["ranking"][r["k"] :])
        console.print(f"`{r['rule']}` excludes {picked}; kept: {rest or '-'}")


def _print(data: dict[str, Any], spec_path: str) -> None:
    console.print(_slots_table(data))
    static = ", ".join(data["static_exclusions"]) or "none"
    console.print(f"static exclusions (exclude SLOT): {static}")
    if data["saliency"] is not None:
        console.print(f"saliency run: {data['saliency']}")
    _print_rules(data, spec_path)
    radices = " x ".join(str(r) for r in data["radices"])
    line = f"space: {radices} = {data['size']:,} networks over {len(data['searchable'])} searchable slots"
    if data["unresolved"]:
        line += " (before the unresolved `exclude top K` lines)"
    console.print(line)


@click.command("explain")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--saliency", "run", type=click.Path(), help="A saliency run folder (or its saliency.json).")
@click.option("--json", "as_json", is_flag=True, help="Print the resolved space as JSON.")
def explain_cmd(spec: str, run: str | None, as_json: bool) -> None:
    """Print SPEC's search space: slots, candidates, exclusions (resolved from a saliency run), size."""
    checked = parse(spec)
    SearchSpace.of(checked)  # a spec without a search part: one clear error
    resolution = resolve(checked, Path(run)) if run is not None else None
    data = explain_data(checked, resolution)
    if as_json:
        print_json(data)
    else:
        _print(data, spec)
