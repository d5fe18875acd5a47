"""The distillation jobs of a search space: one per (slot, candidate), or one per block of a
multi-block slot at block granularity. A job is a pure value; its id names its result file and
seeds its initialisation and batches, so the same seed gives the same surrogate whatever the
order or the process a job runs in."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

from attrs import frozen
from torch import nn

from archc.compiler.blocks import get as get_block
from archc.diagnostics import quoted_list, unknown_name_help
from archc.dsl.params import params_to_json
from archc.dsl.spec import Block, Slot, Spec
from archc.errors import DistillError


@frozen
class Job:
    """Train the candidate (`kind` with `params`, canonical text `candidate`) x (stop - start) to map
    the teacher's features before block `start` of `stage` to those after block `stop - 1`. `part`
    is the block's index within the slot at block granularity, None when the job covers the whole
    slot. Plain data (the params as JSON values), so a job pickles into any worker process."""

    slot: str
    stage: str
    slot_start: int
    start: int
    stop: int
    channels: int
    candidate: str
    kind: str
    params: dict[str, Any]
    part: int | None = None

    @property
    def repeat(self) -> int:
        return self.stop - self.start

    @property
    def entry(self) -> tuple[str, str]:
        """The bank entry this job contributes to: (slot, candidate canonical string)."""
        return self.slot, self.candidate

    @property
    def id(self) -> str:
        suffix = "" if self.part is None else f"@{self.part}"
        return f"{self.slot}={self.candidate}{suffix}"

    @property
    def offsets(self) -> tuple[int, int]:
        """The job's input and output as block offsets within the slot (0 = the slot's input)."""
        return self.start - self.slot_start, self.stop - self.slot_start


def entry_stem(slot: str, canonical: str) -> str:
    """A file-name-safe, collision-free stem for (slot, candidate): `enc1.naf_sca_off.3f9a1c2e`."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", canonical).strip("_")
    return f"{slot}.{slug}.{zlib.crc32(f'{slot}={canonical}'.encode()):08x}"


def job_stem(job: Job) -> str:
    stem = entry_stem(*job.entry)
    return stem if job.part is None else f"{stem}.b{job.part}"


def job_seed(seed: int, job: Job) -> int:
    """A 32-bit seed from the run seed and the job id (stable across processes and Python versions)."""
    return zlib.crc32(f"{seed}/{job.id}".encode())


def has_tensors(block: Block, channels: int) -> bool:
    """Whether the block has parameters or buffers (an `identity` has none and needs no training)."""
    defn = get_block(block.kind)
    module: nn.Module = defn.build(block.params, channels)
    return any(True for _ in module.state_dict())


def select_slots(spec: Spec, names: Sequence[str] | None) -> tuple[Slot, ...]:
    """The searchable slots named in `names` (all when None), in network order."""
    if spec.search is None:
        raise DistillError(
            f"`{spec.name}` has no search block: there are no slots to distill",
            code="E1108",
            help="add `search over NAME { ... }` with the candidates of each slot",
        )
    slots = {s.name: s for s in spec.search.slots}
    for name in names or ():
        if name not in slots:
            raise DistillError(
                f"`{name}` is not a searchable slot of `{spec.name}`",
                code="E1109",
                help=unknown_name_help(name, slots, f"choose from {quoted_list(slots)}"),
            )
    wanted = set(names) if names else set(slots)
    return tuple(s for s in spec.search.slots if s.name in wanted)


def slot_jobs(spec: Spec, slot: Slot, granularity: str) -> list[Job]:
    """The jobs of one slot: every candidate but the original; split per block at block granularity
    (a candidate without tensors is never split: there is nothing to train)."""
    channels = spec.stage(slot.stage).channels
    jobs = []
    for cand in slot.candidates:
        if cand.canonical == slot.original.canonical:
            continue
        block = (cand.canonical, cand.kind, params_to_json(cand.params))
        if granularity == "slot" or slot.count == 1 or not has_tensors(cand, channels):
            jobs.append(Job(slot.name, slot.stage, slot.start, slot.start, slot.stop, channels, *block))
        else:
            jobs += [
                Job(slot.name, slot.stage, slot.start, slot.start + i, slot.start + i + 1, channels, *block, i)
                for i in range(slot.count)
            ]
    return jobs


def plan_jobs(spec: Spec, slots: Sequence[str] | None = None, granularity: str = "slot") -> tuple[Job, ...]:
    """Every job of the selected slots, in network order then candidate order."""
    return tuple(j for s in select_slots(spec, slots) for j in slot_jobs(spec, s, granularity))
