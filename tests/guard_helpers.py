"""A teacher that does not deblur, for the tests of the teacher check: a fresh NAFNet (residual
scales at zero, so every block passes its input through) with its last conv zeroed, so the global
residual returns the blurred input exactly: 0 dB over the input."""

from __future__ import annotations

from pathlib import Path

import torch

import archc
from archc.compiler.weights import save_safetensors


def identity_teacher(spec: Path) -> torch.nn.Module:
    model = archc.build(spec)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("ending."):
                p.zero_()
    return model


def write_identity_teacher(spec: Path, out: Path) -> Path:
    save_safetensors(identity_teacher(spec), out)
    return out
