"""Weights in and out: official NAFNet checkpoints (`params` dict, optional `module.` prefix,
loaded without pickle code) and archc's safetensors files (with the spec text and choice beside them)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archc.errors import WeightsError

from .files import atomic_path

_WRAPPER_KEYS = ("params", "params_ema", "state_dict", "model")


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            if key in obj and isinstance(obj[key], Mapping):
                return _unwrap(obj[key], path)
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return {str(k).removeprefix("module."): v for k, v in obj.items()}
    raise WeightsError(f"{path} holds no state_dict (expected a dict of tensors, possibly under `params`)",
                       code="E0401", help="pass a NAFNet .pth checkpoint or an archc .safetensors file")


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata stored beside the tensors of an archc safetensors file (spec text, choice, ...)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint without executing pickle code (`weights_only=True` semantics)."""
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"no such weights file: {p}", code="E0402")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(p))
        except Exception as exc:
            raise WeightsError(f"cannot read {p}: {exc}", code="E0403") from exc
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"cannot read {p} as a checkpoint: {first}", code="E0403",
                           help="checkpoints are loaded without running pickled code; re-save plain tensors") from exc
    return _unwrap(obj, p)


def _mismatch(model: nn.Module, state: Mapping[str, torch.Tensor]) -> list[str]:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: file {tuple(state[k].shape)} vs network {tuple(v.shape)}"
              for k, v in own.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    lines = []
    for title, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if keys:
            more = f" ... ({len(keys) - 5} more)" if len(keys) > 5 else ""
            lines.append(f"{len(keys)} {title}: {', '.join(keys[:5])}{more}")
    return lines


def apply_state(model: nn.Module, state: Mapping[str, torch.Tensor], source: str = "weights") -> None:
    """Load with strict=True; a mismatch becomes one clear error listing the first offending keys."""
    problems = _mismatch(model, state)
    if problems:
        raise WeightsError(f"{source} do not fit this network: " + "; ".join(problems), code="E0404",
                           help="was the checkpoint made for another spec or width?")
    model.load_state_dict(dict(state), strict=True)


def save_safetensors(model: nn.Module, path: str | Path, metadata: Mapping[str, Any] | None = None) -> None:
    """Write the state_dict as safetensors, atomically, with string metadata beside it."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
