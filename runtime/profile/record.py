"""`RUN/latency.json`: the record of one profiling run, rewritten (atomically) after every figure,
so a run that fails or is interrupted keeps everything it measured.

Fields (format `archc-latency/1`):

- `format`, `status` (`running` | `complete` | `failed`), `error` (the message when failed)
- `spec` (path), `arch` (name), `input_size` [H, W] (the network input; blocks run at their own
  feature size), `device` {name, kind, description}, `label` (`measured` | `modelled` | `remote`:
  every figure in the file is of this kind), `protocol` (threads, repeats, warm-up, versions,
  machine; for modelled devices the model file, sources and resolution assumption)
- `measurements`: workload key -> {latency_ms (median), iqr_ms, repeats, stable, label, ...};
  keys are `BLOCK@CxHxW` for one block at its feature shape (`identity@...` is the empty graph
  at that shape: a runtime's per-call cost), `fixed@...` and `baseline@...` for networks,
  `net:CHOICE@...` for other networks
- `blocks`: one row per (slot, candidate): slot, stage, level, feature [C, H, W], candidate,
  index (0 = the original), count (blocks the slot spans), key, block_ms (one block),
  empty_ms, latency_ms (count x block_ms) and net_ms (count x (block_ms - empty_ms))
- `fixed`: the network with every searchable slot removed (identity): latency_ms, key, choice
- `baseline`: the spec's own network: latency_ms, key, choice
- `correction`: {kind, overhead_ms, scale}: overhead_ms = baseline - (fixed + sum of the
  baseline's block net_ms), what the sum of blocks does not account for; kind `proportional`
  multiplies every prediction's block sum by scale = (baseline - fixed) / that sum (with `fit`,
  the median of that ratio over the baseline and the fit networks; fitted_on counts them), kind
  `additive` (records before it) adds overhead_ms to every prediction
- `fit` (with `--fit N`): the networks the scale is fitted on besides the baseline: choice,
  measured_ms, iqr_ms, block_sum_ms (the sum of its blocks' net_ms), label
- `swaps` (with `--swaps`): rows (slot, candidate, choice, measured_ms, iqr_ms, label, delta_ms)
  of every single-slot swap of the baseline timed end to end, `baseline_ms` (every timing of the
  baseline, the first the table's) and `baseline_median_ms`, which the deltas are taken from;
  the correction's kind is then `swaps` (predicted = that median + the changed slots' deltas)
- `networks`: networks predicted from the table and profiled end to end: choice, predicted_ms,
  measured_ms, error_pct (predicted vs measured), source (`--choice` or `--validate`)
- `validation`: {n, within_10pct (share 0..1), rmspe_pct, mean_abs_error_pct, max_abs_error_pct,
  kendall_tau, seed}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archc.compiler.files import write_text_atomic
from archc.errors import ProfileError

FORMAT = "archc-latency/1"
FILENAME = "latency.json"


class RunRecord:
    """The latency.json of one run; `path` None keeps it in memory only."""

    def __init__(self, path: Path | None, header: Mapping[str, Any]) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "format": FORMAT,
            "status": "running",
            "error": None,
            **header,
            "measurements": {},
            "blocks": [],
            "fixed": None,
            "baseline": None,
            "correction": None,
            "networks": [],
            "validation": None,
        }

    @property
    def label(self) -> str:
        """How every figure of this run is obtained: the device's kind (`measured` | `modelled` | `remote`)."""
        return str(self.data["label"])

    def flush(self) -> None:
        if self.path is not None:
            write_text_atomic(self.path, json.dumps(self.data, indent=1) + "\n")

    def put(self, section: str, value: Any) -> None:
        self.data[section] = value
        self.flush()

    def add_measurement(self, key: str, figure: Mapping[str, Any]) -> None:
        self.data["measurements"][key] = dict(figure)
        self.flush()

    def add_network(self, row: Mapping[str, Any]) -> None:
        self.data["networks"].append(dict(row))
        self.flush()

    def finish(self, error: str | None = None) -> None:
        self.data["status"] = "failed" if error else "complete"
        self.data["error"] = error
        self.flush()


def read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}", code="E0840") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProfileError(f"{path} is not an archc latency record ({FORMAT})", code="E0840")
    return data


def reusable(previous: Mapping[str, Any], header: Mapping[str, Any]) -> dict[str, Any]:
    """Measurements of an earlier run of the same arch, device, input size and timing protocol
    (threads, clock) -- the figures a resumed run may reuse."""
    same = all(previous.get(k) == header.get(k) for k in ("arch", "input_size", "label"))
    same = same and (previous.get("device") or {}).get("name") == header["device"]["name"]
    before, now = previous.get("protocol") or {}, header.get("protocol") or {}
    same = same and all(before.get(k) == now.get(k) for k in ("threads", "clock", "model_file"))
    return dict(previous.get("measurements") or {}) if same else {}
