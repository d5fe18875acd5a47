"""The surrogate bank, `RUN/surrogates/`: one safetensors file per (slot, candidate) holding the
trained candidate block(s) (keys `<i>.<name>` for the slot's i-th block) and `manifest.json`
describing each. Plugging a bank into a teacher gives the teacher with chosen slots replaced by
their surrogates: the teacher's state minus the replaced blocks, plus the surrogates' tensors
under those blocks' names, loaded strictly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import torch
from attrs import frozen

from archc.compiler.files import write_text_atomic
from archc.compiler.ir import to_ir
from archc.compiler.lower import ArchNet, lower
from archc.compiler.weights import apply_state, load_state
from archc.diagnostics import quoted_list
from archc.dsl.spec import Block, Spec
from archc.errors import DistillError

FORMAT = "archc-surrogates/1"
MANIFEST = "manifest.json"


@frozen
class BankEntry:
    """One trained surrogate: `candidate` (canonical text; `kind` + `params`) repeated over blocks
    [start, stop) of `stage` at `channels`, its feature-fit errors on held-out crops, and how it was
    made. `file` is None for a candidate without tensors (`identity`)."""

    slot: str
    stage: str
    start: int
    stop: int
    candidate: str
    kind: str
    params: dict[str, Any]
    channels: int
    file: str | None
    feature_loss: str
    fit_nmse: float
    fit_rel_change: float
    train_loss: float | None
    steps: int
    granularity: str
    parts: int
    data_fraction: float
    train_crops: int
    crop: int
    seed: int
    teacher_sha256: str
    seconds: float


@frozen
class Bank:
    root: Path
    spec: str
    teacher_file: str
    teacher_sha256: str
    entries: tuple[BankEntry, ...]

    def get(self, slot: str, candidate: str) -> BankEntry | None:
        return next((e for e in self.entries if e.slot == slot and e.candidate == candidate), None)

    def candidates(self, slot: str) -> list[str]:
        return [e.candidate for e in self.entries if e.slot == slot]

    def tensors(self, entry: BankEntry) -> dict[str, torch.Tensor]:
        """The surrogate's state (`<i>.<name>` keys); empty for a candidate without tensors."""
        return {} if entry.file is None else load_state(self.root / entry.file)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_json(bank: Bank, feature_loss: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "spec": bank.spec,
        "teacher": {"file": bank.teacher_file, "sha256": bank.teacher_sha256},
        "feature_loss": feature_loss,
        "entries": [attrs.asdict(e) for e in bank.entries],
    }


def write_manifest(bank: Bank, feature_loss: str) -> Path:
    path = bank.root / MANIFEST
    write_text_atomic(path, json.dumps(manifest_json(bank, feature_loss), indent=1) + "\n")
    return path


def load_bank(path: str | Path) -> Bank:
    """Read `path/manifest.json` (`path`: the bank folder, its run folder, or the manifest itself);
    raises DistillError when it is missing or not a surrogate manifest."""
    root = Path(path)
    if (root / "surrogates" / MANIFEST).is_file() and not (root / MANIFEST).exists():
        root = root / "surrogates"  # the run folder itself
    manifest = root if root.is_file() else root / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DistillError(
            f"cannot read surrogate bank {manifest}: {exc}",
            code="E1104",
            help="pass the `surrogates/` folder that `archc distill --out RUN` wrote",
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DistillError(f"{manifest} is not an archc surrogate manifest (format {FORMAT})", code="E1104")
    entries = tuple(BankEntry(**e) for e in data["entries"])
    teacher = data["teacher"]
    return Bank(manifest.parent, data["spec"], teacher["file"], teacher["sha256"], entries)


def check_teacher(bank: Bank, weights: str | Path) -> None:
    """The surrogates imitate one teacher: refuse other weights (compared by file SHA-256)."""
    if file_sha256(weights) != bank.teacher_sha256:
        raise DistillError(
            f"the surrogates in {bank.root} were distilled from another teacher than {weights}",
            code="E1105",
            help=f"pass --weights {bank.teacher_file} (SHA-256 "
            f"{bank.teacher_sha256[:12]}...), or distill a bank from these weights",
        )


def _target(spec: Spec, name: str) -> tuple[str, int, int, Block]:
    """(stage, start, stop, original block) of a slot or stage name."""
    if spec.search is not None:
        try:
            slot = spec.search.slot(name)
            return slot.stage, slot.start, slot.stop, slot.original
        except KeyError:
            pass
    stage = spec.stage(name)
    return stage.name, 0, stage.repeat, stage.block


def _entry(spec: Spec, bank: Bank, name: str, block: Block) -> BankEntry:
    entry = bank.get(name, block.canonical)
    if entry is None:
        have = bank.candidates(name)
        raise DistillError(
            f"the surrogate bank {bank.root} has no surrogate for `{name}={block.canonical}`",
            code="E1103",
            help=(f"it holds {quoted_list(have)} for `{name}`" if have else f"it holds nothing for `{name}`")
            + f"; distill it with `archc distill ... --slots {name}`",
        )
    stage, start, stop, _ = _target(spec, name)
    if (entry.stage, entry.start, entry.stop, entry.channels) != (stage, start, stop, spec.stage(stage).channels):
        raise DistillError(
            f"the surrogate `{name}={block.canonical}` in {bank.root} was made for another network "
            f"(blocks {entry.start}..{entry.stop} of `{entry.stage}` at {entry.channels} channels)",
            code="E1110",
            help="distill a bank for this spec",
        )
    return entry


def plug_state(
    model: ArchNet, spec: Spec, choice: Mapping[str, Block], teacher: Mapping[str, torch.Tensor], bank: Bank
) -> dict[str, torch.Tensor]:
    """The state of `model` (built with `choice`): the teacher's, with every slot whose choice is not
    its original taken from the bank. Raises DistillError naming a choice the bank lacks."""
    state = dict(teacher)
    for name, block in choice.items():
        stage, start, stop, original = _target(spec, name)
        if block.canonical == original.canonical:
            continue
        entry = _entry(spec, bank, name, block)
        prefix = model.stage_prefix(stage)
        owned = tuple(f"{prefix}.{j}." for j in range(start, stop))
        state = {k: v for k, v in state.items() if not k.startswith(owned)}
        for key, value in bank.tensors(entry).items():
            index, rest = key.split(".", 1)
            state[f"{prefix}.{start + int(index)}.{rest}"] = value
    return state


def assemble(
    spec: Spec,
    choice: Mapping[str, Block],
    teacher: Mapping[str, torch.Tensor],
    bank: Bank,
    source: str = "teacher + surrogates",
) -> ArchNet:
    """The network of `choice` with the teacher's weights and the bank's surrogates."""
    model = lower(to_ir(spec, choice))
    apply_state(model, plug_state(model, spec, choice, teacher, bank), source=source)
    return model


def plug_surrogates(
    model: ArchNet, spec: Spec, choice: Mapping[str, Block], weights: str | Path | None, surrogates: str | Path
) -> None:
    """Load `weights` (the teacher) and the bank's surrogates for `choice` into `model` (built with `choice`)."""
    if weights is None:
        raise DistillError(
            "surrogates plug into a teacher: give its weights too",
            code="E1106",
            help="pass --weights TEACHER (the weights the bank was distilled from)",
        )
    bank = load_bank(surrogates)
    check_teacher(bank, weights)
    state = plug_state(model, spec, choice, load_state(weights), bank)
    apply_state(model, state, source=f"{weights} with surrogates from {bank.root}")
