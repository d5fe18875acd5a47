"""Training one surrogate against cached teacher features, and measuring its fit.

Feature loss: the squared error normalised by the teacher output's energy,
`sum ||f(x) - y||^2 / sum ||y||^2` over a batch (x, y: the teacher's maps at the job's input and
output). It is scale-free, so one learning rate fits every level of the U-Net. The fit is reported
on the held-out crops two ways: `fit_nmse`, that same ratio, and `fit_rel_change`,
`sum ||f(x) - y||^2 / sum ||y - x||^2`, the share of the teacher block's change to its input that the
surrogate misses (an `identity` scores exactly 1, a perfect surrogate 0).

A surrogate trains on `cfg.accelerator` with `cfg.amp` (the loss itself in float32), is measured
in float32, and comes back on the CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import numpy as np
import torch
from attrs import frozen
from torch import nn

from archc.compiler.blocks import get as get_block
from archc.runtime.accel.accelerator import resolve
from archc.runtime.accel.memory import out_of_memory_as_error
from archc.runtime.training.amp import Amp

from .config import DistillConfig
from .features import batch_of, in_order
from .plan import Job

FEATURE_LOSS = "sum ||f(x) - y||^2 / sum ||y||^2 (L2 normalised by the teacher output's energy)"
StepCallback = Callable[[int, float], None]


@frozen
class FitStats:
    """What training one surrogate gave. `train_loss`: mean feature loss of the last 10 % of steps."""

    steps: int
    train_loss: float | None  # None when nothing was trained
    fit_nmse: float
    fit_rel_change: float
    seconds: float
    inherited: int  # tensors copied from the teacher at init


def feature_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """`sum ||pred - target||^2 / sum ||target||^2` over a `B x C x h x w` batch."""
    return (pred - target).pow(2).sum() / target.pow(2).sum().clamp_min(1e-12)


def build_candidate(job: Job) -> nn.Sequential:
    """The candidate block repeated over the job's blocks, with fresh weights."""
    defn = get_block(job.kind)
    params = defn.params(**job.params)
    return nn.Sequential(*(defn.build(params, job.channels) for _ in range(job.repeat)))


def inherit(module: nn.Module, teacher: Mapping[str, torch.Tensor]) -> int:
    """Copy every teacher tensor whose name and shape match one of `module`'s; returns how many."""
    own = module.state_dict()
    hits = {k: v for k, v in teacher.items() if k in own and own[k].shape == v.shape}
    module.load_state_dict(hits, strict=False)
    return len(hits)


def cosine(cfg: DistillConfig, step: int) -> float:
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1.0 + math.cos(math.pi * step / cfg.iters))


def batch_index(seed: int, step: int, count: int, batch: int) -> np.ndarray:
    """The crops of `step`: a pure function of (seed, step); sorted, so memory-mapped reads go forward."""
    return np.sort(np.random.default_rng([seed, step]).integers(0, count, size=batch))


def train_steps(
    module: nn.Module,
    train: np.ndarray,
    boundaries: tuple[int, int],
    cfg: DistillConfig,
    seed: int,
    on_step: StepCallback | None = None,
) -> float:
    """`cfg.iters` AdamW (NAFNet's betas) steps on the feature loss, on the module's device with
    `cfg.amp`; returns the mean loss of the last 10 % of steps."""
    device = _device_of(module)
    amp = Amp(cfg.amp, device)
    opt = torch.optim.AdamW(module.parameters(), lr=cfg.lr, betas=(0.9, 0.9), weight_decay=cfg.weight_decay)
    module.train()
    tail: list[float] = []
    for step in range(cfg.iters):
        for group in opt.param_groups:
            group["lr"] = cosine(cfg, step)
        x, y = batch_of(train, boundaries, batch_index(seed, step, train.shape[1], cfg.batch))
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with amp.autocast():
            pred = module(x)
        loss = feature_loss(pred.float(), y)
        opt.zero_grad(set_to_none=True)
        amp.step(loss, opt)
        if step >= cfg.iters - max(1, cfg.iters // 10):
            tail.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1, float(loss.detach()))
    return float(np.mean(tail))


def measure_fit(module: nn.Module, held: np.ndarray, boundaries: tuple[int, int], batch: int) -> tuple[float, float]:
    """(fit_nmse, fit_rel_change) over every held-out crop (see the module docstring)."""
    err = energy = change = 0.0
    device = _device_of(module)
    module.eval()
    with torch.inference_mode():
        for x, y in in_order(held, boundaries, batch):
            err += float((module(x.to(device)).cpu() - y).pow(2).sum())
            energy += float(y.pow(2).sum())
            change += float((y - x).pow(2).sum())
    return err / max(energy, 1e-12), err / max(change, 1e-12)


def _device_of(module: nn.Module) -> torch.device:
    first = next(module.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def fit(
    job: Job,
    train: np.ndarray,
    held: np.ndarray,
    boundaries: tuple[int, int],
    cfg: DistillConfig,
    seed: int,
    teacher: Mapping[str, torch.Tensor] | None = None,
    on_step: StepCallback | None = None,
) -> tuple[nn.Sequential, FitStats]:
    """Train the job's surrogate (seeded by `seed`; initialised from `teacher` tensors when given).

    `train`, `held`: cached feature arrays `boundaries x N x C x h x w`; `boundaries` picks the
    job's input and output maps. A candidate without tensors is not trained (0 steps), nor is any
    candidate when `cfg.iters` is 0 (it is plugged in as initialised: the no-distillation ablation).
    """
    start = time.perf_counter()
    device = resolve(cfg.accelerator)
    torch.manual_seed(seed)
    module = build_candidate(job)
    inherited = inherit(module, teacher) if teacher else 0
    trainable = any(p.requires_grad for p in module.parameters())
    hint = f"a smaller --batch (now {cfg.batch}) or --crop (now {cfg.crop}), or fewer --jobs on one GPU"
    with out_of_memory_as_error(f"training the surrogate {job.candidate} of {job.slot}", device, hint):
        module.to(device)
        trained = trainable and cfg.iters > 0
        loss = train_steps(module, train, boundaries, cfg, seed, on_step) if trained else None
        nmse, rel = measure_fit(module, held, boundaries, cfg.batch)
    steps = cfg.iters if trained else 0
    return module.cpu(), FitStats(steps, loss, nmse, rel, time.perf_counter() - start, inherited)
