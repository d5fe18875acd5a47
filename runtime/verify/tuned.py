"""A fine-tuned copy of a network, kept per network and recipe so it is trained once.

The verify stage fine-tunes every front network it probes and then the one it keeps; each is
trained into `RUN/verify/finetune/KEY/` (KEY: a digest of the network's spec, choice, starting
weights and fine-tuning recipe) and read back, not trained again, when asked for a second time.
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
from safetensors.torch import load_file
from torch import nn

from archc.compiler.files import write_text_atomic

from .finetune import FinetuneSettings, finetune

DONE = "tuned.json"


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
) -> tuple[nn.Module, dict[str, Any]]:
    """(`pick` fine-tuned with `settings`, its record); `pick` itself is left as it is."""
    tuned = copy.deepcopy(pick)
    if settings.steps <= 0:
        return tuned, {**settings.to_json(), "seconds": 0.0, "weights": exp["weights"]}
    meta = {
        "spec": Path(exp["spec"]).read_text(),
        "choice": exp["canonical"],
        "finetune": json.dumps(settings.to_json()),
    }
    folder = out / "finetune" / _key(meta, Path(exp["weights"]))
    if (folder / DONE).is_file():
        record: dict[str, Any] = {**json.loads((folder / DONE).read_text()), "trained_before": True}
        tuned.load_state_dict(load_file(record["weights"]))
        say(f"fine-tuned weights of {exp['canonical']} read from {folder} ({settings.steps} steps, trained before)")
        return tuned.eval(), record
    say(f"fine-tuning {exp['canonical']} for {settings.steps} steps ({settings.loss} loss)")
    t0 = time.perf_counter()
    result = finetune(tuned, data, folder, settings, teacher, meta)
    record = {
        **settings.to_json(),
        "steps_done": result.steps,
        "seconds": time.perf_counter() - t0,
        "weights": str(result.weights),
    }
    write_text_atomic(folder / DONE, json.dumps(record, indent=1) + "\n")
    return tuned.eval(), record
