"""The fastest network of a search's front that holds a quality target once fine-tuned.

The search predicts each network's drop with surrogates plugged in and no fine-tuning. Fine-tuning
wins much of it back (the demo's `enc1=naf_relu;...;dec1=identity`: 1.05 dB predicted, 0.34 dB
after 300 steps), so the network a user wants, the fastest one within X dB *as shipped*, is
usually faster than the one the predictions name. Along the Pareto front, fastest first, the
verified drop falls as the predicted one does; `bisect` fine-tunes and scores at most `probes`
front networks, each time halving the stretch of the front where the fastest one within the
target lies, and returns every probe it made (a probe that breaks the order shows in the table).
Front networks this run folder already fine-tuned and scored with the same fine-tuning settings
(the pick an earlier verification checked, the probes of an earlier bisection) are probes that
cost nothing: they narrow the stretch before the first fine-tuning, and show in the table as reused.
In a precision search each probe is scored as it would ship: its mixed-precision QDQ graph
(calibrated as `export` calibrates it) in ONNX Runtime, not the search's fake quantization, which
leaves some element-wise work (the channel attention's scaling, the residual additions) in float
and so can read optimistic (before it rounded the SimpleGate's product, the demo's fine-tuned
w8a8 knee read 0.264 dB fake-quantized and 0.450 dB as its QDQ graph).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from attrs import frozen
from torch import nn

from archc.compiler.files import write_text_atomic
from archc.compiler.frontend import parse
from archc.errors import VerifyError
from archc.runtime.evaluation.evaluate import EvalResult
from archc.runtime.network.build import build
from archc.runtime.search.export import export
from archc.runtime.search.pick import baseline_latency

from .finetune import FinetuneSettings
from .score import drop, qdq_network, score
from .tuned import Shipped, shipped_in, tuned_copy

PROBES = "probes.json"
SCORED = "as shipped"  # probes.json's `scored`: drops of what ships (QDQ graphs of precision picks)


@frozen
class Probe:
    """One front network, fine-tuned and scored on the whole test split."""

    index: int  # its position in the search's evaluations
    canonical: str
    predicted_drop: float
    predicted_speedup: float | None
    drop: float  # after fine-tuning, against the teacher on the whole test split
    drop_se: float
    holds: bool  # drop <= the target
    seconds: float
    quantized: bool = False  # scored as its mixed-precision QDQ graph in ONNX Runtime (a precision search)
    reused: bool = False  # scored by an earlier verification or bisection in this run folder


def front_order(results: Mapping[str, Any]) -> list[int]:
    """The search's Pareto front, slowest (nearest the teacher) first, without the teacher itself."""
    evaluations = results["evaluations"]
    base = (results.get("baseline") or {}).get("canonical")
    front = [i for i in results["pareto"] if evaluations[i]["canonical"] != base]
    return sorted(front, key=lambda i: (-evaluations[i]["objectives"]["latency_ms"], i))


def fastest_holding(
    n: int, holds: Callable[[int], bool], probes: int, known: Mapping[int, bool] | None = None
) -> tuple[int, list[int]]:
    """On positions 0..n-1 where `holds` is true up to some position and false after it, the last
    true one (-1: none) found with at most `probes` calls, each in the middle of what is left
    (leaning to the faster side); with fewer calls than log2(n + 1), the last true one seen.
    `known` (position -> holds) are outcomes already had: the search starts between the last known
    hold and the first known failure after it. Returns (that position, the positions probed)."""
    known = known or {}
    lo = max((p for p, ok in known.items() if ok), default=-1)
    hi = min((p for p, ok in known.items() if not ok and p > lo), default=n)
    probed = list[int]()
    while hi - lo > 1 and len(probed) < probes:
        mid = (lo + hi + 1) // 2
        probed.append(mid)
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return lo, probed


def bisect(
    run: Path,
    within: float,
    probes: int,
    settings: FinetuneSettings,
    say: Callable[[str], None] = lambda text: None,
    teacher: tuple[nn.Module, EvalResult] | None = None,
) -> tuple[int | None, list[Probe]]:
    """(evaluation index of the fastest front network found within `within` dB after fine-tuning,
    or None; the probes made). `teacher`: the teacher and its score on the test split, when the
    caller has them (else both are made here). Writes `RUN/verify/probes.json`."""
    if probes < 1:
        raise VerifyError("--verify-probes must be at least 1", code="E1906", help="try --verify-probes 3")
    results = json.loads((run / "search" / "search.json").read_text())
    order = front_order(results)
    if not order:
        raise VerifyError(
            "the search's front holds only the teacher",
            code="E1907",
            help="search a larger budget, or verify the knee without --verify-within",
        )
    out = run / "verify"
    if teacher is None:
        network = build(parse(results["spec_text"]), None, results["teacher"]).eval()
        teacher = network, score(network, results["data"])
    earlier = {p.index: p for p in known_probes(run, results, settings)}
    made = [attrs.evolve(earlier[i], holds=earlier[i].drop <= within, reused=True) for i in order if i in earlier]
    for probe in made:
        say(f"known: {probe.canonical}: {probe.drop:.3f} dB after fine-tuning{_as(probe)} (scored before)")

    def holds(position: int) -> bool:
        probe = _probe(run, results, order[position], *teacher, within, settings, say)
        made.append(probe)
        say(
            f"probe {sum(not p.reused for p in made)}/{probes}: {probe.canonical}: {probe.drop:.3f} dB after "
            f"fine-tuning{_as(probe)} ({'holds' if probe.holds else 'fails'} {within:g} dB; "
            f"predicted {probe.predicted_drop:.3f} dB)"
        )
        return probe.holds

    lo, _ = fastest_holding(len(order), holds, probes, {order.index(p.index): p.holds for p in made})
    chosen = order[lo] if lo >= 0 else None
    record = {
        "within_db": within,
        "probes_allowed": probes,
        "front": order,
        "chosen": chosen,
        "finetune": settings.to_json(),
        "scored": SCORED,
        "probes": [attrs.asdict(p) for p in made],
    }
    write_text_atomic(out / PROBES, json.dumps(record, indent=1) + "\n")
    return chosen, made


def known_probes(run: Path, results: Mapping[str, Any], settings: FinetuneSettings) -> list[Probe]:
    """Front networks `run` already fine-tuned with `settings` and scored as they ship: the probes
    of an earlier bisection (`probes.json`) and the pick of an earlier verification (`verify.json`),
    each only when written after the search's results (a search run again makes them stale)."""
    same = settings.to_json()
    found: dict[int, Probe] = {}
    earlier = _read(run / "verify" / PROBES)
    if earlier.get("finetune") == same and earlier.get("scored") == SCORED:  # not fake-quantized drops
        fields = {f.name for f in attrs.fields(Probe)}
        found.update((p["index"], Probe(**{k: v for k, v in p.items() if k in fields})) for p in earlier["probes"])
    checked = _read(run / "verify" / "verify.json")
    tuned = {k: v for k, v in (checked.get("finetune") or {}).items() if k in same}
    canonical = (checked.get("network") or {}).get("canonical")
    index = next((i for i, e in enumerate(results["evaluations"]) if e["canonical"] == canonical), None)
    if tuned == same and index is not None and index not in found:
        as_shipped = checked["drops"].get("qdq") or checked["drops"]["after"]
        found[index] = Probe(
            **_predicted(results, index),
            drop=float(as_shipped["psnr_drop"]),
            drop_se=float(as_shipped["psnr_drop_se"]),
            holds=False,  # against the target of the bisection that reuses it
            seconds=0.0,
            quantized="qdq" in checked["drops"],
        )
    return list(found.values())


def _read(path: Path) -> dict[str, Any]:
    """`path`'s JSON when it was written after the search's results (`RUN/search/search.json`), else {}."""
    searched = path.parent.parent / "search" / "search.json"
    try:
        if path.stat().st_mtime < searched.stat().st_mtime:
            return {}
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):  # none yet, or unreadable: nothing to reuse
        return {}


def _probe(
    run: Path,
    results: Mapping[str, Any],
    index: int,
    teacher: Any,
    reference: EvalResult,
    within: float,
    settings: FinetuneSettings,
    say: Callable[[str], None],
) -> Probe:
    t0 = time.perf_counter()
    exp = export(run / "search", str(index), run / "verify" / "probes" / str(index))
    pick = build(parse(Path(exp["spec"])), None, exp["weights"]).eval()
    spec = parse(results["spec_text"])
    precision = shipped_in(spec, exp, results["data"])
    tuned, _ = tuned_copy(pick, teacher, results["data"], run / "verify", settings, exp, say, precision)
    shipped = tuned if precision is None else _as_shipped(tuned, spec, precision)
    got = drop(reference, score(shipped, results["data"]))
    return Probe(
        **_predicted(results, index),
        drop=got["psnr_drop"],
        drop_se=got["psnr_drop_se"],
        holds=got["psnr_drop"] <= within,
        seconds=time.perf_counter() - t0,
        quantized=shipped is not tuned,
    )


def _predicted(results: Mapping[str, Any], index: int) -> dict[str, Any]:
    """A front network's Probe fields from the search: its index, canonical text, predicted drop and speed-up."""
    ev = results["evaluations"][index]
    base = baseline_latency(results)
    return {
        "index": index,
        "canonical": ev["canonical"],
        "predicted_drop": float(ev["objectives"]["psnr_drop"]),
        "predicted_speedup": base / ev["objectives"]["latency_ms"] if base else None,
    }


def _as_shipped(tuned: nn.Module, spec: Any, precision: Shipped) -> nn.Module:
    """`tuned` as it ships with quantized slots: its mixed-precision QDQ graph run by ONNX Runtime,
    calibrated on the images the export uses."""
    return qdq_network(tuned, spec, dict(precision.precisions), precision.calibration)[1]


def probes_text(made: Sequence[Probe], within: float) -> list[str]:
    """One line per probe, in the order they were made."""
    return [
        f"{p.canonical} ({p.index}): predicted {p.predicted_drop:.3f} dB"
        + (f", {p.predicted_speedup:.2f}x" if p.predicted_speedup else "")
        + f" -> {p.drop:.3f} dB ± {p.drop_se:.3f} after fine-tuning{_as(p)}"
        + f" ({'within' if p.holds else 'over'} {within:g} dB{'; scored before, reused' if p.reused else ''})"
        for p in made
    ]


def _as(probe: Probe) -> str:
    return ", as its QDQ graph in ONNX Runtime" if probe.quantized else ""
