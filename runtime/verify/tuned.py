"""A fine-tuned copy of a network, kept per network and recipe so it is trained once.

The verify stage fine-tunes every front network it probes and then the one it keeps; each is
trained into `RUN/verify/finetune/KEY/` (KEY: a digest of the network's spec, choice, starting
weights and fine-tuning recipe) and read back, not trained again, when asked for a second time.

A pick with a slot in w8a8 or w8a16 is fine-tuned quantization-aware unless its settings say
otherwise: its slots round in every forward pass as the search's simulation rounds them (the fp16
ones to FP16), gradients pass the rounding straight through (`runtime/network/quantsim.py`), and
the float weights it learns are what the exporter then quantizes.
On the demo's w8a8 picks (nafnet_small, 400 steps against the teacher, 24 whole test frames,
scored as their QDQ graphs in ONNX Runtime) that left 0.361 dB on the knee where fine-tuning in
float left 0.450 dB, and 0.113 dB on the network `--verify-within 0.3` kept where it left 0.142 dB.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from attrs import frozen
from safetensors.torch import load_file
from torch import nn

from archc.compiler.files import write_text_atomic
from archc.compiler.quantize import Calibration
from archc.compiler.weights import save_safetensors
from archc.dsl.spec import Slot
from archc.runtime.network.qdq_export import calibration_of, needs_qdq
from archc.runtime.network.quantsim import quantization_aware
from archc.runtime.training.train import TrainResult

from .finetune import FinetuneSettings, finetune
from .score import calibration_batch

DONE = "tuned.json"


@frozen
class Shipped:
    """The precisions a pick with quantized slots ships in (`shipped_in`): the search's slots, each
    slot's precision, and the images the export calibrates its QDQ graph on."""

    slots: tuple[Slot, ...]
    precisions: Mapping[str, str]
    calibration: Calibration


def shipped_in(spec: Any, exp: Mapping[str, Any], data: str) -> Shipped | None:
    """How the exported pick `exp` of a search of `spec` ships, when the search chose a quantized
    precision for one of its slots (calibrated on `data` as the export is); else None."""
    precisions: dict[str, str] = dict(exp.get("precisions") or {})
    if not needs_qdq(precisions):
        return None
    return Shipped(tuple(spec.search.slots), precisions, calibration_of(data))


def _key(meta: Mapping[str, str], weights: Path) -> str:
    """A digest of the recipe and the starting tensors (not the file's bytes: a safetensors header
    lists its metadata in no fixed order)."""
    digest = hashlib.sha256(json.dumps(dict(meta), sort_keys=True).encode())
    tensors = load_file(str(weights))
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def tuned_copy(
    pick: nn.Module,
    teacher: nn.Module,
    data: str,
    out: Path,
    settings: FinetuneSettings,
    exp: Mapping[str, Any],
    say: Callable[[str], None],
    shipped: Shipped | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """(`pick` fine-tuned with `settings`, its record); `pick` itself is left as it is. With
    `shipped` naming quantized slots, it is fine-tuned quantization-aware (module docstring)."""
    tuned = copy.deepcopy(pick)
    aware = shipped if settings.quantization_aware else None
    if settings.steps <= 0:
        return tuned, {**settings.to_json(), "seconds": 0.0, "weights": exp["weights"], "in_precision": False}
    meta = {
        "spec": Path(exp["spec"]).read_text(),
        "choice": exp["canonical"],
        "finetune": json.dumps(settings.to_json()),
        **({"in_precision": json.dumps(dict(sorted(aware.precisions.items())))} if aware else {}),
    }
    folder = out / "finetune" / _key(meta, Path(exp["weights"]))
    if (folder / DONE).is_file():
        record: dict[str, Any] = {**json.loads((folder / DONE).read_text()), "trained_before": True}
        tuned.load_state_dict(load_file(record["weights"]))
        say(f"fine-tuned weights of {exp['canonical']} read from {folder} ({settings.steps} steps, trained before)")
        return tuned.eval(), record
    how = f"{settings.loss} loss" + (", quantization-aware" if aware else "")
    say(f"fine-tuning {exp['canonical']} for {settings.steps} steps ({how})")
    t0 = time.perf_counter()
    result = _finetune(tuned, data, folder, settings, teacher, meta, aware)
    record = {
        **settings.to_json(),
        "in_precision": aware is not None,  # whether the quantized slots rounded while it trained
        "steps_done": result.steps,
        "seconds": time.perf_counter() - t0,
        "weights": str(result.weights),
    }
    write_text_atomic(folder / DONE, json.dumps(record, indent=1) + "\n")
    return tuned.eval(), record


def _finetune(
    model: nn.Module,
    data: str,
    folder: Path,
    settings: FinetuneSettings,
    teacher: nn.Module,
    meta: dict[str, str],
    shipped: Shipped | None,
) -> TrainResult:
    """`finetune`, quantization-aware when `shipped` is given; the weights file holds the float
    weights under their own names either way."""
    if shipped is None:
        return finetune(model, data, folder, settings, teacher, meta)
    with quantization_aware(model, shipped.slots, shipped.precisions, calibration_batch(shipped.calibration)):
        result = finetune(model, data, folder, settings, teacher, meta)
    save_safetensors(model, result.weights, meta)  # written above with the rounding's parameter names
    return result
