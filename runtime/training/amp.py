"""Mixed precision for training steps: an autocast context and, for fp16, a gradient scaler.

`off` runs float32 throughout. `bf16` autocasts matmuls and convolutions to bfloat16 (float32's
exponent range, so no loss scaling; supported on CUDA and on the CPU). `fp16` autocasts to
float16 and scales the loss so small gradients do not flush to zero (CUDA and MPS; refused on
the CPU, where float16 kernels are few and slow). Weights and optimizer state stay float32.
Evaluation runs in float32 unless a caller asks otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from archc.runtime.accel.accelerator import AcceleratorError

MODES = ("off", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_amp(mode: str, device: torch.device) -> str:
    """Return `mode` when it can run on `device`; raise AcceleratorError (E1505, E1506) otherwise."""
    if mode not in MODES:
        raise AcceleratorError(f"unknown --amp `{mode}`", code="E1505", help=f"the modes are {', '.join(MODES)}")
    if mode == "fp16" and device.type == "cpu":
        raise AcceleratorError(
            "--amp fp16 was asked for on the CPU, which has few and slow float16 kernels",
            code="E1506",
            help="use --amp bf16 on the CPU, or --amp off",
        )
    return mode


class Amp:
    """The precision of one training loop on one device.

    Use `with amp.autocast(): loss = ...` for the forward pass and `amp.step(loss, optimizer)` for
    backward + update; with fp16 the step is skipped when gradients overflowed (the scaler's rule).
    """

    def __init__(self, mode: str, device: torch.device) -> None:
        self.mode = check_amp(mode, device)
        self.device = device
        self.scaler = torch.amp.GradScaler(device.type) if mode == "fp16" else None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with torch.autocast(self.device.type, dtype=_DTYPES[self.mode]):
            yield

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Backward on `loss` (scaled for fp16), then the optimizer step."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return {} if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
