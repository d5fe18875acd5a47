"""Block and slot saliency of a compiled network: `compute_saliency`.

Every measure runs on a private copy (`probe.py`); the caller's model keeps its parameters,
gradients and train/eval mode. Weights whose residual scales are all zero (an untrained NAFNet)
are refused, because every gradient measure and synflow would be exactly zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen
from torch import nn

from archc.compiler.lower import ArchNet
from archc.dsl.check import SALIENCY_METRICS
from archc.dsl.spec import Spec
from archc.errors import SaliencyError

from .aggregate import per_param, ranks, scale_of, unit_value
from .first_order import PerBatch
from .measures import MEASURES, Progress, check_names, run_measures
from .probe import LOSSES, Batch, Probe
from .residual import all_zero, residual_scales, untrained
from .units import Unit, block_modules, block_units, slot_units, unit_macs, unit_params

NORMS = ("sum", "per_param", "rank")


@frozen
class UnitScore:
    """One block or slot: baseline columns and, per metric, its sum, per-parameter and rank."""

    unit: Unit
    params: int
    macs: int
    sums: dict[str, float]
    per_param: dict[str, float]
    rank: dict[str, float]
    notes: tuple[str, ...] = ()

    def value(self, metric: str, norm: str = "sum") -> float:
        """The score of `metric` under normalisation `norm` (one of NORMS)."""
        return {"sum": self.sums, "per_param": self.per_param, "rank": self.rank}[norm][metric]


@frozen
class Saliency:
    metrics: tuple[str, ...]
    blocks: tuple[UnitScore, ...]
    slots: tuple[UnitScore, ...]
    scales: dict[str, str]  # metric -> "linear" | "log10" | "symlog" (from the block sums)
    input_size: tuple[int, int]  # H x W of the crops (MACs are counted at this size)
    batches: int
    batch: int
    loss: str
    seconds: dict[str, float]


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise SaliencyError(f"unknown loss `{loss}`", code="E1004", help=f"the losses are {', '.join(LOSSES)}")


def check_trained(spec: Spec, model: ArchNet) -> None:
    """Raise SaliencyError (E1001) when every residual scale of `model` is zero (untrained)."""
    if untrained(block_modules(model, block_units(spec, model)).values()):
        raise SaliencyError(
            "every residual scale (beta, gamma) of these weights is zero: this is an untrained network, "
            "on which every gradient saliency measure is exactly zero",
            code="E1001",
            help="pass trained weights, e.g. `--weights RUN/weights.safetensors` from `archc train`",
        )


def _block_notes(unit: Unit, blocks: dict[str, nn.Module]) -> tuple[str, ...]:
    scales = [p.detach() for path in unit.modules for p in residual_scales(blocks[path])]
    notes = []
    if not scales:
        notes.append("no residual scale (beta/gamma): taylor is undefined (NaN)")
    elif all_zero(scales):
        notes.append("residual scales are all zero: the unit is the identity and its gradient measures are 0")
    if not any(p.numel() for path in unit.modules for p in blocks[path].parameters()):
        notes.append("no parameters: per-parameter scores are undefined (NaN)")
    return tuple(notes)


def _score_units(
    units: Sequence[Unit],
    values: dict[str, PerBatch],
    model: ArchNet,
    spec: Spec,
    size: tuple[int, int],
    blocks: dict[str, nn.Module],
) -> tuple[UnitScore, ...]:
    params = [unit_params(model, u) for u in units]
    sums = {m: [unit_value(v, u, MEASURES[m].reduce) for u in units] for m, v in values.items()}
    rank = {m: ranks(s) for m, s in sums.items()}
    return tuple(
        UnitScore(
            u,
            params[i],
            unit_macs(spec, u, size),
            {m: s[i] for m, s in sums.items()},
            {m: per_param(s[i], params[i]) for m, s in sums.items()},
            {m: r[i] for m, r in rank.items()},
            _block_notes(u, blocks),
        )
        for i, u in enumerate(units)
    )


def compute_saliency(
    spec: Spec,
    model: ArchNet,
    batches: Sequence[Batch],
    *,
    metrics: Sequence[str] = SALIENCY_METRICS,
    loss: str = "psnr",
    device: str = "cpu",
    progress: Progress | None = None,
) -> Saliency:
    """Per-block and per-slot saliency of `model` (built from `spec`, trained weights) on `batches`
    of (blur, sharp) crops, each `B x C x H x W`, all of one size.

    Raises SaliencyError for an untrained network, an unknown metric or loss.
    """
    names = check_names(metrics)
    _check_loss(loss)
    block_list, slot_list = block_units(spec, model), slot_units(spec, model)
    blocks = block_modules(model, block_list)
    check_trained(spec, model)
    probe = Probe.of(model, batches, LOSSES[loss], blocks=tuple(blocks), device=device)
    values, seconds = run_measures(probe, names, progress)
    size = (int(batches[0][0].shape[-2]), int(batches[0][0].shape[-1]))
    scored_blocks = _score_units(block_list, values, model, spec, size, blocks)
    scored_slots = _score_units(slot_list, values, model, spec, size, blocks)
    scales = {m: scale_of([b.sums[m] for b in scored_blocks]) for m in names}
    return Saliency(
        names, scored_blocks, scored_slots, scales, size, len(batches), int(batches[0][0].shape[0]), loss, seconds
    )
