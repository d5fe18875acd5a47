"""Export one network of a finished search: a fixed `.arch` spec (every slot resolved, no search
part), its weights (teacher + surrogates) as safetensors, the simplified ONNX, and a check that
the exported spec rebuilds the network and reproduces the reported PSNR."""

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
from archc.runtime.accelerator import describe, resolve
from archc.runtime.build import build

from .run import RESULTS


def load_results(run: str | Path) -> dict[str, Any]:
    path = Path(run) / RESULTS if Path(run).is_dir() else Path(run)
    if not path.is_file():
        raise SearchError(f"no search results at {path}", code="E0720", help="run `archc search ... --out RUN` first")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def pick_index(results: dict[str, Any], pick: str) -> int:
    """`knee`, `fastest`, `best-under=MS` or a position in `evaluations`."""
    if pick in ("knee", "fastest"):
        return int(results[pick])
    if pick.startswith("best-under="):
        budget = float(pick.split("=", 1)[1])
        ok = [(e["objectives"]["psnr_drop"], e["objectives"]["latency_ms"], i)
              for i, e in enumerate(results["evaluations"]) if e["objectives"]["latency_ms"] <= budget]
        if not ok:
            raise SearchError(f"no evaluated network runs within {budget:g} ms", code="E0721",
                              help="raise the budget or pick `fastest`")
        return min(ok)[2]
    if pick.isdigit() and int(pick) < len(results["evaluations"]):
        return int(pick)
    raise SearchError(f"cannot pick `{pick}`", code="E0722",
                      help=f"use knee, fastest, best-under=MS or an index below {len(results['evaluations'])}")


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


def export(run: str | Path, pick: str, out: str | Path, accelerator: str = "cpu",
           formats: Sequence[str] = ("onnx",)) -> dict[str, Any]:
    """Write the picked network's spec, weights and network files (`formats`: onnx, pte, tflite) into
    `out`; the reproduction check runs on `accelerator` (float32). Returns the summary written to
    `out/export.json`."""
    device = resolve(accelerator)
    results = load_results(run)
    index = pick_index(results, pick)
    ev = results["evaluations"][index]
    spec = parse(results["spec_text"]) if results.get("spec_text") else parse(results["spec"])
    model = build(spec, ev["choice"], results["teacher"], surrogates=results.get("surrogates"))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"{spec.name}_{pick.replace('=', '_').replace('.', 'p')}"
    comment = (f"Exported from a search of {spec.name} ({pick}: evaluation {index}).\n"
               f"{ev['canonical']}\nPSNR drop {ev['objectives']['psnr_drop']:.3f} dB, "
               f"latency {ev['objectives']['latency_ms']:.3f} ms ({results['latency_source']} on {results['device']})")
    text = arch_text(to_ir(spec, _blocks(spec, ev['choice'])), name, comment)
    write_text_atomic(out_dir / f"{name}.arch", text)
    weights = out_dir / f"{name}.safetensors"
    save_safetensors(model, weights, {"spec": text, "choice": ev["canonical"], "source": str(run)})
    files = _network_files(model, out_dir, name, spec.in_channels, formats)
    rebuilt = build(parse(out_dir / f"{name}.arch"), None, weights).to(device)
    reproduced = _psnr_on(rebuilt, results)
    summary = {"pick": pick, "index": index, "canonical": ev["canonical"], "objectives": ev["objectives"],
               **({"precisions": ev["precisions"]} if "precisions" in ev else {}),
               "spec": str(out_dir / f"{name}.arch"), "weights": str(weights), **files,
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


def _blocks(spec, choice: dict[str, str]):  # type: ignore[no-untyped-def]
    from archc.compiler.frontend import choice_of

    return choice_of(spec, choice)
