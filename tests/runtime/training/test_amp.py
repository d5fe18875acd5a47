"""Mixed precision: off is float32, bf16 autocasts a real training step on the CPU, fp16 needs a GPU."""

from __future__ import annotations

import pytest
import torch

from archc.api import build
from archc.runtime.accel.accelerator import AcceleratorError
from archc.runtime.training.amp import Amp
from archc.runtime.training.train import psnr_loss

from helpers import SPECS

CPU = torch.device("cpu")


def _step(mode: str) -> tuple[torch.nn.Module, torch.Tensor, torch.dtype]:
    torch.manual_seed(0)
    model = build(SPECS / "nafnet_tiny.arch").train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    amp = Amp(mode, CPU)
    blur, sharp = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    seen: list[torch.dtype] = []
    model.intro.register_forward_hook(lambda m, args, y: seen.append(y.dtype))  # the first convolution
    with amp.autocast():
        pred = model(blur)
    loss = psnr_loss(pred.float(), sharp)
    amp.step(loss, opt)
    return model, loss, seen[0]


def test_off_is_float32_throughout() -> None:
    model, loss, dtype = _step("off")
    assert dtype == torch.float32 and torch.isfinite(loss)
    assert not Amp("off", CPU).enabled and Amp("off", CPU).scaler is None


def test_bf16_training_step_on_the_cpu() -> None:
    before = build(SPECS / "nafnet_tiny.arch").state_dict()
    model, loss, dtype = _step("bf16")
    assert dtype == torch.bfloat16 and torch.isfinite(loss)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the weights stay float32
    changed = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed  # the step updated the weights


def test_fp16_on_the_cpu_is_refused_with_a_hint() -> None:
    with pytest.raises(AcceleratorError) as info:
        Amp("fp16", CPU)
    assert info.value.diagnostics[0].code == "E1506" and "bf16" in (info.value.diagnostics[0].help or "")


def test_unknown_mode() -> None:
    with pytest.raises(AcceleratorError) as info:
        Amp("int4", CPU)
    assert info.value.diagnostics[0].code == "E1505"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fp16_on_cuda_scales_the_loss() -> None:
    amp = Amp("fp16", torch.device("cuda"))
    assert amp.scaler is not None and amp.state_dict()
