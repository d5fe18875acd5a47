"""A hand-picked network of a finished search's space, with the objectives the search would have
predicted for it: latency from the same block table(s) (`RUN/profile/latency.json`, or in a
precision search one table per precision in `RUN/search/profile/`), PSNR drop of the assembled
network (surrogates, fake-quantized slots) on the same validation crops against the teacher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archc.compiler.frontend import choice_of
from archc.compiler.space import SearchSpace
from archc.dsl.spec import Spec
from archc.errors import SearchError
from archc.runtime.network.build import build


def parse_precisions(text: str | None, space: SearchSpace) -> dict[str, str]:
    """`a=w8a8;b=fp16` or `*=w8a8` -> slot name -> precision (every slot unnamed: fp16)."""
    if not text:
        return {}
    if not space.has_precision:
        raise SearchError(
            "this search did not search precision",
            code="E0761",
            help="drop the precisions, or search a spec with a `precision` line",
        )
    pairs = dict(item.split("=", 1) for item in text.replace(" ", "").split(";") if item)
    star = pairs.pop("*", None)
    out = {s.name: pairs.get(s.name, star or s.precisions[0]) for s in space.slots}
    space.encode({}, out)  # an unknown slot or a precision the slot does not list raises here
    return out


def hand_pick(
    results: dict[str, Any], search_dir: Path, spec: Spec, choice: str, precisions: str | None
) -> dict[str, Any]:
    """An evaluation-like record (canonical, choice, precisions, objectives) of the network `choice`."""
    space = SearchSpace.of(spec, exclude=results.get("space", {}).get("excluded", ()))
    blocks = choice_of(spec, choice)
    prec = parse_precisions(precisions, space)
    indices = space.encode({k: v for k, v in blocks.items() if k in {s.name for s in space.slots}}, prec)
    objectives = {**_quality(results, spec, space, indices), "latency_ms": _latency(spec, space, search_dir, indices)}
    ev: dict[str, Any] = {
        "canonical": space.canonical_of(indices),
        "indices": list(indices),
        "choice": {k: b.canonical for k, b in space.decode(indices).items()},
        "objectives": objectives,
        "predicted_by": "hand pick: the search's predictors",
    }
    if space.has_precision:
        ev["precisions"] = space.precisions_of(indices)
    return ev


def _latency(spec: Spec, space: SearchSpace, search_dir: Path, indices: tuple[int, ...]) -> float | None:
    """The predicted latency (ms); None when the block table(s) it needs are missing."""
    from archc.runtime.profile.table import table_from_record

    if space.has_precision:
        from archc.runtime.profile.precision import MixedRowsLatency, mixed_latency

        paths = {p: search_dir / "profile" / f"latency_{p}.json" for s in space.slots for p in s.precisions}
        if not all(path.is_file() for path in paths.values()):
            return None
        tables = {p: table_from_record(spec, json.loads(path.read_text())) for p, path in paths.items()}
        return MixedRowsLatency(*mixed_latency(space, tables)).one(indices)
    path = search_dir.parent / "profile" / "latency.json"
    if not path.is_file():
        return None
    return float(table_from_record(spec, json.loads(path.read_text())).predict(space.decode(indices)))


def _quality(results: dict[str, Any], spec: Spec, space: SearchSpace, indices: tuple[int, ...]) -> dict[str, float]:
    from archc.runtime.data.crops import ValCrops
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.network.quantsim import simulate

    from .objectives import image_scores, standard_error

    val = results["validation"]
    view = ValCrops(open_dataset(results["data"], split="test"), val["crop"])
    items = [it for it in (view[i] for i in range(len(view))) if it[0] in set(val["images"])]
    blur, sharp = torch.stack([b for _, b, _ in items]), [s.numpy().transpose(1, 2, 0) for _, _, s in items]
    teacher, _ = image_scores(build(spec, None, results["teacher"]), blur, sharp)
    model = build(spec, space.decode(indices), results["teacher"], surrogates=results.get("surrogates"))
    if space.has_precision:
        model = simulate(model, space.slots, space.precisions_of(indices), _search_calibration(results))
    psnrs, ssims = image_scores(model, blur, sharp)
    diffs = np.asarray(teacher) - np.asarray(psnrs)
    return {
        "psnr": float(np.mean(psnrs)),
        "ssim": float(np.mean(ssims)),
        "psnr_drop": float(diffs.mean()),
        "psnr_drop_se": standard_error(diffs),
    }


def _search_calibration(results: dict[str, Any]) -> torch.Tensor:
    """The search's calibration batch: as many training crops as it has validation crops
    (`archc/cli/search.py`)."""
    from archc.runtime.data.calibration import calibration_images

    val = results["validation"]
    return torch.from_numpy(np.concatenate(calibration_images(results["data"], len(val["images"]), val["crop"])))
