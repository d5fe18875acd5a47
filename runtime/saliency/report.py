"""`RUN/saliency.json`: what `archc saliency` writes and `archc explain --saliency` reads.

Format `archc.saliency/1`, one JSON object:

- `format`: "archc.saliency/1".
- `spec`: {`name`, `path`} of the spec the network was built from.
- `weights`: the weights file scored.
- `data`: {`path`, `split`, `crop`, `batches` (K), `batch` (B), `seed`, `loss`, `input_size`
  [H, W]}: the K deterministic batches of B training crops the gradient measures average over.
- `metrics`: {METRIC: {`reduce`, `signed`, `scale`, `summary`}} for each metric computed, in the
  order grad_norm, snip, grasp, fisher, synflow, taylor. `reduce` is "sum" (mean over batches of
  the unit's summed values) or "sum_squared" (taylor: mean over batches of the squared sum);
  `scale` is how to draw the block scores: "linear", "log10" (positive, spanning >= 3 decades)
  or "symlog" (signed, spanning them).
- `normalisations`: the meaning of `sum`, `per_param` and `rank` (see below).
- `seconds`: wall time per phase (`first_order`: one shared pass for grad_norm, snip, fisher
  and taylor; `grasp`; `synflow`; `ablation`).
- `blocks`, `slots`: lists in network order. Each entry: `name` (`enc4[17]` for a block, the
  slot name for a slot), `stage`, `start`, `stop` (blocks [start, stop) of the stage), `block`
  (canonical kind), `modules` (state_dict prefixes, e.g. `encoders.3.17`), `params` (all
  parameters of the unit), `macs` (conv MACs at `input_size`), `scores`: {METRIC: {`sum`,
  `per_param` (sum / params), `rank` (rank of sum among units of the same list / their
  number: 1 = highest)}}, `notes` (e.g. why a score is undefined), and with `--ablate`
  `drop`: PSNR of the intact network minus PSNR without the unit, in dB. Slots also carry
  `searchable` (false for slots fixed by a static `exclude SLOT` line).
- `ablation`: null, or {`images`, `crop`, `base_psnr`, `seconds`, `spearman`: {"blocks" |
  "slots": {METRIC | "params" | "macs": {NORM: {`rho`, `n`}}}}}: Spearman's rho of each score
  with the drops over the `n` units where both are finite.
- `notes`: run-level remarks.

Non-finite numbers are never written as numbers: a NaN or infinite score is `null` and the
entry that holds it gets `nonfinite`: {"METRIC.NORM": "nan" | "inf" | "-inf"} (for a rho:
`nonfinite`: "nan"); readers turn them back into floats with `read_number`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from archc.compiler.files import write_text_atomic
from archc.dsl.spec import Spec
from archc.errors import SaliencyError

from .ablate import Ablation, Correlation, correlations
from .measures import MEASURES
from .score import NORMS, Saliency, UnitScore

FORMAT = "archc.saliency/1"
NORMALISATIONS = {
    "sum": "the metric summed over the unit's scored tensors (reduced over batches per `metrics.reduce`)",
    "per_param": "sum / all parameters of the unit",
    "rank": "rank of sum among the units of the same list, divided by their number (1 = highest)",
}


@frozen
class RunInfo:
    """Where a saliency run came from (written under `spec`, `weights` and `data`)."""

    weights: str
    data: str
    split: str
    seed: int
    val_crop: int | None = None


def nonfinite(x: float) -> str | None:
    """ "nan", "inf" or "-inf" for a non-finite number; None for a finite one."""
    if math.isfinite(x):
        return None
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def number(x: float) -> float | None:
    return x if math.isfinite(x) else None


def read_number(value: float | None, flag: str | None) -> float:
    """Back from (`null`, flag) to a float; a `null` without a flag is a malformed file."""
    if value is not None:
        return float(value)
    if flag in ("nan", "inf", "-inf"):
        return float(flag)
    raise ValueError("null without a nonfinite flag")


def _scores(score: UnitScore) -> tuple[dict[str, dict[str, float | None]], dict[str, str]]:
    out: dict[str, dict[str, float | None]] = {}
    flags: dict[str, str] = {}
    for metric in score.sums:
        out[metric] = {}
        for norm in NORMS:
            v = score.value(metric, norm)
            out[metric][norm] = number(v)
            if (flag := nonfinite(v)) is not None:
                flags[f"{metric}.{norm}"] = flag
    return out, flags


def _unit(score: UnitScore, drops: Mapping[str, float] | None, spec: Spec) -> dict[str, Any]:
    u = score.unit
    scores, flags = _scores(score)
    entry: dict[str, Any] = {
        "name": u.name,
        "stage": u.stage,
        "start": u.start,
        "stop": u.stop,
        "block": u.block,
        "modules": list(u.modules),
        "params": score.params,
        "macs": score.macs,
        "scores": scores,
        "notes": list(score.notes),
    }
    if flags:
        entry["nonfinite"] = flags
    if u.kind == "slot":
        entry["searchable"] = spec.search is None or any(s.name == u.name for s in spec.search.slots)
    if drops is not None:
        entry["drop"] = number(drops[u.name])
        if (flag := nonfinite(drops[u.name])) is not None:
            entry.setdefault("nonfinite", {})["drop"] = flag
    return entry


def _rho(c: Correlation) -> dict[str, Any]:
    out: dict[str, Any] = {"rho": number(c.rho), "n": c.n}
    if (flag := nonfinite(c.rho)) is not None:
        out["nonfinite"] = flag
    return out


def _ablation(s: Saliency, a: Ablation, crop: int | None) -> dict[str, Any]:
    kinds: dict[str, Sequence[UnitScore]] = {"blocks": s.blocks, "slots": s.slots}
    return {
        "images": a.images,
        "crop": crop,
        "base_psnr": number(a.base_psnr),
        "seconds": a.seconds,
        "spearman": {
            kind: {
                m: {norm: _rho(c) for norm, c in by_norm.items()} for m, by_norm in correlations(units, a.drops).items()
            }
            for kind, units in kinds.items()
        },
    }


def _notes(s: Saliency) -> list[str]:
    notes = []
    for m in s.metrics:
        bad = [b.unit.name for b in s.blocks if not math.isfinite(b.sums[m])]
        if bad:
            notes.append(
                f"{m}: {len(bad)} block(s) with a non-finite score ({', '.join(bad[:4])}"
                f"{', ...' if len(bad) > 4 else ''})"
            )
    return notes


def to_json(spec: Spec, s: Saliency, info: RunInfo, ablation: Ablation | None = None) -> dict[str, Any]:
    """The saliency.json object of a run (fields in the module docstring)."""
    drops = ablation.drops if ablation is not None else None
    seconds = dict(s.seconds) | ({"ablation": ablation.seconds} if ablation is not None else {})
    return {
        "format": FORMAT,
        "spec": {"name": spec.name, "path": spec.path},
        "weights": info.weights,
        "data": {
            "path": info.data,
            "split": info.split,
            "crop": s.input_size[0],
            "batches": s.batches,
            "batch": s.batch,
            "seed": info.seed,
            "loss": s.loss,
            "input_size": list(s.input_size),
        },
        "metrics": {
            m: {
                "reduce": MEASURES[m].reduce,
                "signed": MEASURES[m].signed,
                "scale": s.scales[m],
                "summary": MEASURES[m].summary,
            }
            for m in s.metrics
        },
        "normalisations": NORMALISATIONS,
        "seconds": seconds,
        "blocks": [_unit(b, drops, spec) for b in s.blocks],
        "slots": [_unit(b, drops, spec) for b in s.slots],
        "ablation": None if ablation is None else _ablation(s, ablation, info.val_crop),
        "notes": _notes(s),
    }


def write(path: str | Path, data: Mapping[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


def saliency_file(path: str | Path) -> Path:
    """`RUN/saliency.json` for a run folder, the path itself for a file."""
    p = Path(path)
    return p / "saliency.json" if p.is_dir() else p


def load(path: str | Path) -> dict[str, Any]:
    """Read a saliency.json (or the one in run folder `path`); raises SaliencyError when it is
    missing, not JSON, or not this format."""
    p = saliency_file(path)
    if not p.is_file():
        raise SaliencyError(
            f"no saliency file at {p}",
            code="E1010",
            help="run `archc saliency SPEC --weights W --data DIR --out RUN` and pass RUN",
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SaliencyError(f"cannot read {p}: {exc}", code="E1010") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SaliencyError(
            f"{p} is not an archc saliency file (expected format `{FORMAT}`)",
            code="E1011",
            help="pass the saliency.json that `archc saliency` wrote",
        )
    return data


def unit_score(entry: Mapping[str, Any], metric: str, norm: str = "sum") -> float:
    """One score of a `blocks`/`slots` entry of a loaded file, non-finite ones restored."""
    value = entry["scores"][metric][norm]
    return read_number(value, entry.get("nonfinite", {}).get(f"{metric}.{norm}"))
