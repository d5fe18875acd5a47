"""Scores of the verified networks on the whole test split, whole frames, NAFNet's protocol
(`runtime.evaluation.evaluate`, as `archc eval` and the shipped teachers' cards score), and the PSNR drop of
each against the teacher with its standard error (paired per frame, as the search's drops are)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from archc.compiler.quantize import Calibration
from archc.runtime.data.datasets import open_dataset
from archc.runtime.evaluation.evaluate import EvalResult, evaluate
from archc.runtime.network.quantsim import simulate
from archc.runtime.search.objectives import standard_error


def fake_quantized(model: nn.Module, slots: Any, precisions: dict[str, str], calibration: Calibration) -> nn.Module:
    """A copy of `model` with `slots` fake-quantized in `precisions` (the search's simulation),
    its activation ranges calibrated on `calibration`'s images."""
    return simulate(copy.deepcopy(model), slots, precisions, calibration_batch(calibration))


def calibration_batch(calibration: Calibration) -> torch.Tensor:
    """`calibration`'s images as one `N x C x H x W` batch, as the fake quantization observes them."""
    return torch.from_numpy(np.concatenate(calibration.images))


def qdq_network(
    model: nn.Module, spec: Any, precisions: dict[str, str], calibration: Calibration
) -> tuple[Any, nn.Module]:
    """(`model`'s mixed-precision QDQ graph, each of `spec`'s searched slots in its precision from
    `precisions`, calibrated on `calibration`; that graph run by ONNX Runtime as a module): what ships."""
    from archc.runtime.network.onnx_network import OnnxNetwork
    from archc.runtime.network.qdq_export import mixed_proto

    proto = mixed_proto(model, spec.search.slots, precisions, calibration, spec.in_channels)
    return proto, OnnxNetwork(proto, int(getattr(model, "padder_size", 1)))


def score(model: nn.Module, data: str | Path) -> EvalResult:
    """`model` (float32, on its own device) on every frame of `data`'s test split."""
    return evaluate(model, open_dataset(data, split="test"))


def scores_json(result: EvalResult, what: str) -> dict[str, Any]:
    """Mean PSNR / SSIM of `result`, labelled measured and named with the frames they are on."""
    return {
        "psnr": result.mean("psnr"),
        "ssim": result.mean("ssim"),
        "label": "measured",
        "on": frames_text(result),
        "network": what,
    }


def frames_text(result: EvalResult) -> str:
    names = [s.name for s in result.images]
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"the {result.split} split of {result.dataset}: {len(names)} whole frames ({shown})"


def drop(teacher: EvalResult, network: EvalResult) -> dict[str, float]:
    """Teacher PSNR - network PSNR (dB) and its standard error over the paired frames."""
    diffs = np.asarray([t.psnr - n.psnr for t, n in zip(teacher.images, network.images, strict=True)])
    return {
        "psnr_drop": float(diffs.mean()),
        "psnr_drop_se": standard_error(diffs),
        "ssim_drop": teacher.mean("ssim") - network.mean("ssim"),
    }
