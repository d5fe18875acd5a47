"""Export one network of a finished search: a fixed `.arch` spec (every slot resolved, no search
part), its weights (teacher + surrogates) as safetensors, the simplified ONNX, and a check that
the exported spec rebuilds the network and reproduces the reported PSNR. When the search chose a
precision per slot and some slot is quantized, a second ONNX file holds the network in those
precisions (`runtime/network/qdq_export.py`: one QDQ graph, calibrated as `archc compile --precision` is).

The network is one of the search's evaluations (`pick`), or a hand pick (`choice`, with its
`precisions` in a precision search) whose predicted objectives come from the same sources as the
search's (`runtime/search/hand_pick.py`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from archc.compiler.emit_arch import arch_text
from archc.compiler.files import write_text_atomic
from archc.compiler.frontend import parse
from archc.compiler.ir import to_ir
from archc.compiler.onnx_export import export_onnx
from archc.compiler.weights import save_safetensors
from archc.errors import SearchError
from archc.runtime.accel.accelerator import describe, resolve
from archc.runtime.network.build import build
from archc.runtime.profile.proxy import latency_text

from .pick import file_stem, pick_index
from .run import RESULTS


def results_path(run: str | Path) -> Path:
    """The results file of the search in `run`: a search folder, its results file, or the folder of
    an `archc run` (whose search lives in `search/`)."""
    path = Path(run) / RESULTS if Path(run).is_dir() else Path(run)
    if not path.is_file() and (Path(run) / "search" / RESULTS).is_file():
        path = Path(run) / "search" / RESULTS
    if not path.is_file():
        raise SearchError(f"no search results at {path}", code="E0720", help="run `archc search ... --out RUN` first")
    return path


def load_results(run: str | Path) -> dict[str, Any]:
    """The results of the search in `run` (`results_path`)."""
    return json.loads(results_path(run).read_text())  # type: ignore[no-any-return]


def _psnr_on(model: torch.nn.Module, results: dict[str, Any]) -> float | None:
    from archc.runtime.data.crops import ValCrops
    from archc.runtime.data.datasets import open_dataset

    from .objectives import batch_scores

    data, val = results.get("data"), results.get("validation")
    if not data or not val or not Path(data).exists():
        return None
    pairs = open_dataset(data, split="test")
    view = ValCrops(pairs, val["crop"])
    wanted = set(val["images"])
    items = [item for item in (view[i] for i in range(len(view))) if item[0] in wanted]
    blur = torch.stack([b for _, b, _ in items])
    return batch_scores(model, blur, [s.numpy().transpose(1, 2, 0) for _, _, s in items])[0]


def export(run: str | Path, pick: str, out: str | Path, accelerator: str = "cpu", choice: str | None = None,
           precisions: str | None = None, formats: Sequence[str] = ("onnx",)) -> dict[str, Any]:
    """Write the picked network's spec, weights, network files (`formats`: onnx, pte, tflite) and its
    mixed-precision QDQ ONNX into `out`; the reproduction check runs on `accelerator` (float32). With
    `choice` (`a=x;b=y`), that network instead of `pick` (`precisions`: `a=w8a8;b=fp16` or `*=w8a8` in a
    precision search). Returns the summary written to `out/export.json`."""
    device = resolve(accelerator)
    results = load_results(run)
    spec = parse(results["spec_text"]) if results.get("spec_text") else parse(results["spec"])
    if choice is not None:
        from .hand_pick import hand_pick

        index, ev, pick = None, hand_pick(results, results_path(run).parent, spec, choice, precisions), "choice"
    else:
        index = pick_index(results, pick)
        ev = results["evaluations"][index]
    model = build(spec, ev["choice"], results["teacher"], surrogates=results.get("surrogates"))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"{spec.name}_{file_stem(pick)}"
    source = f"evaluation {index}" if index is not None else "a hand pick, not one of its evaluations"
    comment = (f"Exported from a search of {spec.name} ({pick}: {source}).\n"
               f"{ev['canonical']}\nPSNR drop {ev['objectives']['psnr_drop']:.3f} dB, "
               f"latency {_ms(ev['objectives']['latency_ms'], results)} ({results['latency_source']} on "
               f"{results['device']})")
    text = arch_text(to_ir(spec, _blocks(spec, ev['choice'])), name, comment)
    write_text_atomic(out_dir / f"{name}.arch", text)
    weights = out_dir / f"{name}.safetensors"
    save_safetensors(model, weights, {"spec": text, "choice": ev["canonical"], "source": str(run)})
    files = _network_files(model, out_dir, name, spec.in_channels, formats)
    rebuilt = build(parse(out_dir / f"{name}.arch"), None, weights)
    qdq = _write_qdq(rebuilt, spec, ev.get("precisions"), results, out_dir / f"{name}.mixed.onnx")
    reproduced = _psnr_on(rebuilt.to(device), results)
    proxy = {k: results[k] for k in ("latency_proxy", "latency_unit") if k in results}
    summary = {"pick": pick, "index": index, **proxy, "canonical": ev["canonical"], "objectives": ev["objectives"],
               **({"precisions": ev["precisions"]} if "precisions" in ev else {}),
               "spec": str(out_dir / f"{name}.arch"), "weights": str(weights), **files,
               **({"qdq": qdq} if qdq else {}),
               **({"predicted_by": ev["predicted_by"]} if "predicted_by" in ev else {}),
               "reproduced_psnr": reproduced,
               "reported_psnr": ev["objectives"].get("psnr"), **describe(device)}
    write_text_atomic(out_dir / "export.json", json.dumps(summary, indent=1) + "\n")
    return summary


def _network_files(model: torch.nn.Module, out_dir: Path, name: str, channels: int,
                   formats: Sequence[str]) -> dict[str, Any]:
    """Format -> the report of the file written in it (ONNX, ExecuTorch `.pte`, LiteRT `.tflite`)."""
    from archc.compiler.mobile import write

    out: dict[str, Any] = {}
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        # a .tflite has a fixed input size: the 256x256 every profile of the demo's space uses by default
        report = export_onnx(model, path, channels) if fmt == "onnx" else write(fmt, model, path, channels, (256, 256))
        out[fmt] = report.to_json()
    return out


def _ms(value: float | None, results: dict[str, Any]) -> str:
    return "not predicted (no block table)" if value is None else latency_text(value, results)


def _write_qdq(model: torch.nn.Module, spec: Any, precisions: dict[str, str] | None, results: dict[str, Any],
               path: Path) -> dict[str, Any] | None:
    """The mixed-precision QDQ file when some slot of `precisions` is quantized, else None."""
    from archc.runtime.network.qdq_export import calibration_of, needs_qdq, write_mixed

    if not needs_qdq(precisions):
        return None
    data = results.get("data")
    if not data or not Path(data).exists():
        raise SearchError("the quantized slots need calibration images, and the search's dataset is gone",
                          code="E0760", help=f"restore {data} (its training split calibrates the ranges)")
    assert precisions is not None and spec.search is not None
    return write_mixed(model, spec.search.slots, precisions, calibration_of(data), path, spec.in_channels)


def _blocks(spec, choice: dict[str, str]):  # type: ignore[no-untyped-def]
    from archc.compiler.frontend import choice_of

    return choice_of(spec, choice)
