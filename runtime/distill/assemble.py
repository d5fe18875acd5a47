"""From finished jobs to the bank: merge a (slot, candidate)'s job results into one safetensors
file (block granularity: part i's block becomes the slot's block i, and the fit of the chained
blocks is measured against the slot's output), then write the manifest. A bank file, once written,
is read back rather than rebuilt, so resuming never re-measures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch

from archc.compiler.files import atomic_path
from archc.compiler.weights import load_state, read_metadata
from archc.dsl.spec import Spec

from .bank import Bank, BankEntry, write_manifest
from .config import DistillConfig
from .features import feature_path
from .fit import FEATURE_LOSS, build_candidate, measure_fit
from .plan import Job, entry_stem, plan_jobs
from .worker import read_result, result_path


@attrs.frozen
class Provenance:
    """What every entry of one run shares."""

    cfg: DistillConfig
    teacher_sha256: str
    teacher_file: str
    train_crops: int


def merged_tensors(run: Path, parts: Sequence[Job]) -> dict[str, torch.Tensor]:
    """The slot's surrogate state (`<i>.<name>`): one job's keys as they are, or part i's `0.*` as `i.*`."""
    if len(parts) == 1:
        return load_state(result_path(run / "jobs", parts[0]))
    out = {}
    for job in parts:
        out.update(
            {f"{job.part}.{k.split('.', 1)[1]}": v for k, v in load_state(result_path(run / "jobs", job)).items()}
        )
    return out


def chain_fit(run: Path, parts: Sequence[Job], tensors: dict[str, torch.Tensor], batch: int) -> tuple[float, float]:
    """(fit_nmse, fit_rel_change) of the chained part surrogates on the slot's held-out features."""
    first = parts[0]
    whole = attrs.evolve(first, start=first.slot_start, stop=first.slot_start + len(parts), part=None)
    module = build_candidate(whole)
    module.load_state_dict(tensors, strict=True)
    held = np.load(feature_path(run / "features", first.slot, "heldout"), mmap_mode="r")
    return measure_fit(module, held, (0, held.shape[0] - 1), batch)


def entry_stats(
    run: Path, parts: Sequence[Job], tensors: dict[str, torch.Tensor], cfg: DistillConfig
) -> dict[str, Any]:
    records = [read_result(result_path(run / "jobs", j))["stats"] for j in parts]
    if len(records) == 1:
        return dict(records[0])
    nmse, rel = chain_fit(run, parts, tensors, cfg.batch)
    losses = [r["train_loss"] for r in records if r["train_loss"] is not None]
    return {
        "steps": records[0]["steps"],
        "train_loss": float(np.mean(losses)) if losses else None,
        "fit_nmse": nmse,
        "fit_rel_change": rel,
        "seconds": sum(r["seconds"] for r in records),
    }


def make_entry(parts: Sequence[Job], prov: Provenance, file: str | None, stats: dict[str, Any]) -> BankEntry:
    job, cfg = parts[0], prov.cfg
    return BankEntry(
        slot=job.slot,
        stage=job.stage,
        start=job.slot_start,
        stop=job.slot_start + sum(j.repeat for j in parts),
        candidate=job.candidate,
        kind=job.kind,
        params=dict(job.params),
        channels=job.channels,
        file=file,
        feature_loss=FEATURE_LOSS,
        fit_nmse=stats["fit_nmse"],
        fit_rel_change=stats["fit_rel_change"],
        train_loss=stats["train_loss"],
        steps=stats["steps"],
        granularity=cfg.granularity,
        parts=len(parts),
        data_fraction=cfg.fraction,
        train_crops=prov.train_crops,
        crop=cfg.crop,
        seed=cfg.seed,
        teacher_sha256=prov.teacher_sha256,
        seconds=stats["seconds"],
    )


def save_entry(path: Path, tensors: dict[str, torch.Tensor], entry: BankEntry) -> None:
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file(
            {k: v.contiguous() for k, v in tensors.items()},
            str(tmp),
            metadata={"entry": json.dumps(attrs.asdict(entry))},
        )


def bank_entry(run: Path, parts: Sequence[Job], prov: Provenance) -> BankEntry:
    """The entry of one (slot, candidate) whose jobs are all done; writes its bank file if missing."""
    name = f"{entry_stem(*parts[0].entry)}.safetensors"
    path = run / "surrogates" / name
    if path.exists():
        return BankEntry(**json.loads(read_metadata(path)["entry"]))
    tensors = merged_tensors(run, parts)
    entry = make_entry(parts, prov, name if tensors else None, entry_stats(run, parts, tensors, prov.cfg))
    if tensors:
        save_entry(path, tensors, entry)
    return entry


def write_bank(spec: Spec, run: Path, prov: Provenance) -> Bank:
    """Bank files for every (slot, candidate) of the spec whose jobs are all done, and the manifest."""
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in plan_jobs(spec, None, prov.cfg.granularity):
        groups.setdefault(job.entry, []).append(job)
    done = [parts for parts in groups.values() if all(result_path(run / "jobs", j).exists() for j in parts)]
    entries = tuple(bank_entry(run, parts, prov) for parts in done)
    bank = Bank(run / "surrogates", spec.name, prov.teacher_file, prov.teacher_sha256, entries)
    write_manifest(bank, FEATURE_LOSS)
    return bank
