"""The distillation report: for every surrogate its feature fit and its plug-in drop, the teacher's
validation PSNR minus that of the teacher with only that slot replaced by the surrogate (NAFNet's
evaluation protocol on whole validation images). Written to `RUN/distill.json`; each plug-in PSNR
is cached in `RUN/plugin.cache.json`, keyed by the surrogate file, teacher and validation set, so
a rerun only evaluates what is new."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from attrs import frozen

from archc.compiler.files import write_text_atomic
from archc.dsl.spec import Block, Spec
from archc.runtime.data.pairs import PairedImages
from archc.runtime.data.validation import validation_indices
from archc.runtime.evaluation.evaluate import restore
from archc.runtime.evaluation.metrics import psnr

from .bank import Bank, BankEntry, assemble, file_sha256
from .fit import FEATURE_LOSS

REPORT_FILE = "distill.json"
CACHE_FILE = "plugin.cache.json"


@frozen
class PlugIn:
    """One surrogate's row of the report (PSNR in dB; `plug_in_drop` > 0 means worse than the teacher)."""

    slot: str
    candidate: str
    kind: str
    file: str | None
    steps: int
    train_loss: float | None
    fit_nmse: float
    fit_rel_change: float
    psnr: float
    plug_in_drop: float
    seconds: float


def candidate_block(spec: Spec, entry: BankEntry) -> Block:
    assert spec.search is not None  # a bank is only made from a spec with a search block
    slot = spec.search.slot(entry.slot)
    return next(c for c in slot.candidates if c.canonical == entry.candidate)


def _key(bank: Bank, entry: BankEntry | None, val: PairedImages, limit: int | None) -> str:
    made = "teacher" if entry is None else f"{entry.slot}={entry.candidate}"
    file = "-" if entry is None or entry.file is None else file_sha256(bank.root / entry.file)[:16]
    return f"{made}|{file}|{bank.teacher_sha256[:16]}|{val.root}:{val.split}|{limit}|scenes"


def mean_psnr(model: torch.nn.Module, val: PairedImages, limit: int | None) -> float:
    """Mean PSNR of `model` over `limit` (all when None) whole images of `val`, drawn across its
    scenes as the search's validation crops are (`runtime/data/validation.py`)."""
    model.eval()
    scores = []
    for i in validation_indices(val, len(val) if limit is None else limit):
        sample = val[i]
        blur = torch.from_numpy(np.ascontiguousarray(sample.blur.transpose(2, 0, 1)))
        scores.append(psnr(restore(model, blur), sample.sharp))
    return float(np.mean(scores))


def plug_in(
    spec: Spec,
    teacher: Mapping[str, torch.Tensor],
    bank: Bank,
    val: PairedImages,
    limit: int | None,
    cache_path: Path,
    on_done: Callable[[str, float], None] | None = None,
) -> tuple[float, list[PlugIn]]:
    """(teacher PSNR, one row per bank entry), evaluating only what `cache_path` lacks."""
    cache: dict[str, float] = json.loads(cache_path.read_text()) if cache_path.exists() else {}

    def measured(entry: BankEntry | None) -> float:
        key = _key(bank, entry, val, limit)
        if key not in cache:
            choice = {} if entry is None else {entry.slot: candidate_block(spec, entry)}
            cache[key] = mean_psnr(assemble(spec, choice, teacher, bank), val, limit)
            write_text_atomic(cache_path, json.dumps(cache, indent=1) + "\n")
        if on_done is not None:
            on_done("teacher" if entry is None else f"{entry.slot}={entry.candidate}", cache[key])
        return cache[key]

    base = measured(None)
    rows = [_row(e, measured(e), base) for e in bank.entries]
    return base, rows


def _row(e: BankEntry, psnr: float, base: float) -> PlugIn:
    return PlugIn(
        e.slot,
        e.candidate,
        e.kind,
        e.file,
        e.steps,
        e.train_loss,
        e.fit_nmse,
        e.fit_rel_change,
        psnr,
        base - psnr,
        e.seconds,
    )


def mean_drop_by_kind(rows: list[PlugIn]) -> dict[str, float]:
    kinds: dict[str, list[float]] = {}
    for r in rows:
        kinds.setdefault(r.candidate, []).append(r.plug_in_drop)
    return {k: float(np.mean(v)) for k, v in kinds.items()}


def report_json(
    bank: Bank, base: float, rows: list[PlugIn], val: PairedImages, limit: int | None, config: Mapping[str, Any]
) -> dict[str, Any]:
    images = len(val) if limit is None else min(limit, len(val))
    return {
        "spec": bank.spec,
        "teacher": {"file": bank.teacher_file, "sha256": bank.teacher_sha256, "psnr": base},
        "validation": {"data": str(val.root), "split": val.split, "images": images},
        "feature_loss": FEATURE_LOSS,
        "config": dict(config),
        "bank": str(bank.root),
        "surrogates": [attrs.asdict(r) for r in rows],
        "mean_drop_by_candidate": mean_drop_by_kind(rows),
    }


def write_report(run: Path, data: Mapping[str, Any]) -> Path:
    path = run / REPORT_FILE
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")
    return path
