"""The verify stage: what the search predicted for the exported pick, against what it is.

From a run folder with a finished search and export it
0. with `within`, first finds the fastest front network within that drop once fine-tuned
   (`probe.py`: bisects the front, fine-tuning at most `probes` networks) and exports it in place
   of the run's pick;
1. scores the teacher and the exported pick on the whole test split (whole frames);
2. fine-tunes the pick (`finetune.py`) and scores it again; in a precision search also its
   mixed-precision QDQ graph in ONNX Runtime, beside the fake quantization the search scored;
3. exports the teacher and the fine-tuned pick to ONNX and times them end to end at the profiled
   input size (`timing.py`: measured here on `cpu`, the device's whole-network figure elsewhere);
4. writes `RUN/verify/verify.json` with the "predicted -> verified" table (`table.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen
from torch import nn

from archc.compiler.files import atomic_path, write_text_atomic
from archc.compiler.frontend import parse
from archc.compiler.onnx_export import export_onnx
from archc.errors import VerifyError
from archc.runtime.evaluation.evaluate import EvalResult
from archc.runtime.network.build import build
from archc.runtime.search.export import export

from .finetune import FinetuneSettings
from .probe import bisect, probes_text
from .score import drop, fake_quantized, qdq_network, score, scores_json
from .table import build_table
from .timing import HERE, device_figures, time_onnx
from .tuned import Shipped, shipped_in, tuned_copy

RESULT = "verify.json"


@frozen
class VerifySettings:
    """How a pick is verified: its fine-tuning, and the interleaved timing rounds on this machine."""

    finetune: FinetuneSettings = field(factory=FinetuneSettings)
    rounds: int = 50
    warmup: int = 3
    clock: str | None = None  # `wall` or `cpu` (1 thread only); None: the profile's clock
    within: float | None = None  # keep the fastest front network within this drop once fine-tuned
    probes: int = 4  # front networks fine-tuned at most to find it (`probe.py`)


def _load(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise VerifyError(
            f"no {what} at {path}",
            code="E1901",
            help="run `archc run` (or `archc search` and `archc export`) into this folder first",
        )
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def profiled_size(run: Path) -> tuple[tuple[int, int], int, str]:
    """(input H W, threads, clock) of the run's block table(s): the size and protocol of the prediction."""
    # a search over precision profiles its own tables (one per precision); otherwise the profile stage's
    for path in (run / "search" / "profile" / "latency_fp16.json", run / "profile" / "latency.json"):
        if path.is_file():
            data = json.loads(path.read_text())
            protocol = data.get("protocol") or {}
            size = (int(data["input_size"][0]), int(data["input_size"][1]))
            return size, int(protocol.get("threads", 1)), str(protocol.get("clock", "wall"))
    raise VerifyError(
        f"no block table in {run} says at which size the latency was predicted",
        code="E1902",
        help="verify a run folder `archc run` wrote (its profile/latency.json)",
    )


def verify(
    run: str | Path, settings: VerifySettings = VerifySettings(), say: Callable[[str], None] = lambda text: None
) -> dict[str, Any]:
    """Verify the pick exported in `run` (module docstring); returns what `RUN/verify/verify.json` holds."""
    run = Path(run)
    search = _load(run / "search" / "search.json", "search results")
    _load(run / "export" / "export.json", "exported network")
    spec = parse(search["spec_text"])
    data = search["data"]
    if not Path(data).exists():
        raise VerifyError(f"the search's dataset {data} is gone", code="E1903", help="restore it, then verify again")
    teacher = build(spec, None, search["teacher"]).eval()
    say("scoring the teacher on the whole test split")
    reference = score(teacher, data)
    probes = _choose(run, settings, say, (teacher, reference)) if settings.within is not None else None
    exp = _load(run / "export" / "export.json", "exported network")
    out = run / "verify"
    out.mkdir(parents=True, exist_ok=True)
    pick = build(parse(Path(exp["spec"])), None, exp["weights"]).eval()
    say("scoring the pick on the whole test split")
    scores = {"teacher": reference, "before": score(pick, data)}
    shipped = shipped_in(spec, exp, data)
    tuned, tuned_record = tuned_copy(pick, teacher, data, out, settings.finetune, exp, say, shipped)
    scores["after"] = score(tuned, data) if settings.finetune.steps > 0 else scores["before"]
    files = {
        "teacher": _onnx(teacher, out / "teacher.onnx", spec.in_channels),
        "pick": _onnx(tuned, out / f"{Path(exp['spec']).stem}.onnx", spec.in_channels),
    }
    quant: dict[str, Any] = {}
    if shipped is not None:
        say("scoring the mixed-precision QDQ graph in ONNX Runtime")
        quant, scores = _mixed(tuned, spec, shipped, data, out / f"{Path(exp['spec']).stem}.mixed.onnx", scores)
        files["pick_qdq"] = Path(quant["path"])
    size, threads, clock = profiled_size(run)
    say(f"timing the exported networks at {size[0]}x{size[1]}")
    device = search.get("verified_on", search["device"])  # a proxy search is timed on its profiled device
    latency = _latency(device, files, {"teacher": teacher, "pick": tuned}, size, threads, clock, settings)
    record = _record(search, exp, scores, tuned_record, latency, quant, size)
    if probes is not None:
        record["probes"] = probes
    write_text_atomic(out / RESULT, json.dumps(record, indent=1) + "\n")
    return record


def _choose(
    run: Path, settings: VerifySettings, say: Callable[[str], None], teacher: tuple[nn.Module, EvalResult]
) -> dict[str, Any]:
    """Probe the front for the fastest network within `settings.within` once fine-tuned (`teacher`:
    the teacher and its score), and export it into RUN/export (the run's own pick stays when no
    probe holds)."""
    assert settings.within is not None
    say(
        f"probing the front for the fastest network within {settings.within:g} dB once fine-tuned "
        f"(at most {settings.probes} fine-tunings)"
    )
    chosen, made = bisect(run, settings.within, settings.probes, settings.finetune, say, teacher)
    if chosen is not None:
        export(run / "search", str(chosen), run / "export")
    else:
        say(f"no probed network holds {settings.within:g} dB: verifying the run's own pick")
    return {
        "within_db": settings.within,
        "allowed": settings.probes,
        "chosen": chosen,
        "made": [attrs.asdict(p) for p in made],
        "lines": probes_text(made, settings.within),
    }


def _onnx(model: nn.Module, path: Path, channels: int) -> Path:
    export_onnx(model, path, channels)  # the exporter traces an eval-mode CPU copy
    return path


def _mixed(
    tuned: nn.Module, spec: Any, shipped: Shipped, data: str, path: Path, scores: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fine-tuned pick's mixed QDQ graph (written to `path`) scored in ONNX Runtime, and the
    same network fake-quantized in torch (what the search scored) on the same frames."""
    import onnx

    from archc.compiler.mixed_precision import quantized_nodes

    precisions, calibration = dict(shipped.precisions), shipped.calibration
    proto, network = qdq_network(tuned, spec, precisions, calibration)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    scores = {**scores, "qdq": score(network, data)}
    scores["fake_quant"] = score(fake_quantized(tuned, shipped.slots, precisions, calibration), data)
    return {
        "path": str(path),
        "precisions": precisions,
        "calibration": calibration.source,
        "quantized_nodes": len(quantized_nodes(proto)),
    }, scores


def _latency(
    device: str,
    files: dict[str, Path],
    models: dict[str, nn.Module],
    size: tuple[int, int],
    threads: int,
    clock: str,
    settings: VerifySettings,
) -> dict[str, Any]:
    if device in HERE:
        return time_onnx(files, size, threads, settings.rounds, settings.warmup, clock=settings.clock or clock)
    return device_figures(device, models, size)


def _record(
    search: dict[str, Any],
    exp: dict[str, Any],
    scores: dict[str, Any],
    tuned: dict[str, Any],
    latency: dict[str, Any],
    quant: dict[str, Any],
    size: tuple[int, int],
) -> dict[str, Any]:
    names = {
        "teacher": "teacher",
        "before": "pick, not fine-tuned",
        "after": "pick, fine-tuned",
        "qdq": "pick, fine-tuned, mixed-precision QDQ graph (ONNX Runtime)",
        "fake_quant": "pick, fine-tuned, fake-quantized in torch (the search's simulation)",
    }
    teacher = scores["teacher"]
    record: dict[str, Any] = {
        "network": {
            "pick": exp["pick"],
            "canonical": exp["canonical"],
            "spec": exp["spec"],
            **({"precisions": exp["precisions"]} if "precisions" in exp else {}),
        },
        "device": search["device"],
        "latency_source": search["latency_source"],
        "input_size": list(size),
        "finetune": tuned,
        "scores": {k: scores_json(v, names[k]) for k, v in scores.items()},
        "drops": {k: drop(teacher, v) for k, v in scores.items() if k != "teacher"},
        "latency": latency,
        **({"qdq": quant} if quant else {}),
        "predicted": _predicted(search, exp),
    }
    record["table"] = build_table(record)
    return record


def _predicted(search: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any]:
    """What the search predicted for the pick and the teacher, and on what."""
    got = exp["objectives"]
    base = (search.get("baseline") or {}).get("objectives") or {}
    val = search.get("validation") or {}
    label = "modelled" if search.get("latency_source") == "modelled" else "predicted"
    proxy = bool(search.get("latency_proxy"))  # a count of blocks, not a latency: nothing to compare
    return {
        "psnr_drop": got.get("psnr_drop"),
        "psnr_drop_se": got.get("psnr_drop_se"),
        "psnr": got.get("psnr"),
        "teacher_psnr": search.get("teacher_psnr"),
        "on": f"the search's {len(val.get('images', []))} validation crops of {val.get('crop')} px "
        f"({', '.join(val.get('images', [])[:3])}{', ...' if len(val.get('images', [])) > 3 else ''}), "
        "surrogates plugged in, not fine-tuned",
        "latency_ms": None if proxy else got.get("latency_ms"),
        "teacher_latency_ms": None if proxy else base.get("latency_ms"),
        "latency_label": label,
        "latency_how": search.get("latency_source"),
    }
