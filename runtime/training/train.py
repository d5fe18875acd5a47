"""Training with NAFNet's recipe: AdamW (lr 1e-3, wd 1e-3, betas 0.9/0.9), cosine to 1e-7, PSNR
loss, random crops with flips and rotations. Two optional additions for short CPU budgets: a
linear warm-up over the first fraction of the schedule, and an exponential moving average (EMA)
of the weights, which is what gets saved when enabled. Resumable: the checkpoint holds weights,
EMA, optimizer state and progress, written atomically; batches are a pure function of
(seed, step), so a resumed run sees the same data as an uninterrupted one.

`accelerator` picks where the steps run (`runtime.accel.accelerator`), `amp` their precision
(`runtime.training.amp`); `workers` data-loading processes make the batches (default: none on the CPU, a
few into pinned memory on a GPU). With the network's IR at hand, the memory of a step is checked
before the first one; running out of memory later is one error with a hint, not a traceback."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import torch
from attrs import asdict, field, frozen
from torch import nn

from archc.compiler.files import atomic_path, write_text_atomic
from archc.compiler.memory import for_training
from archc.compiler.weights import save_safetensors
from archc.errors import DataError
from archc.runtime.accel.accelerator import describe, resolve
from archc.runtime.accel.memory import check_fits, out_of_memory_as_error
from archc.runtime.data.crops import TrainCrops
from archc.runtime.data.loader import batch_at, step_batches
from archc.runtime.data.pairs import PairedImages
from archc.runtime.training.amp import Amp

__all__ = ["TrainConfig", "TrainResult", "WeightAverage", "batch_at", "cosine_lr", "psnr_loss", "train"]


@frozen
class TrainConfig:
    iters: int | None = None  # stop after this many steps ...
    minutes: float | None = None  # ... or after this much wall time (cosine follows elapsed time)
    batch: int = 16  # 16 crops of 96 px: about 1.5x the pixels per second of 8 x 64 px on 2 CPU cores
    crop: int = 96
    lr: float = 1e-3
    lr_min: float = 1e-7
    weight_decay: float = 1e-3
    betas: tuple[float, float] = field(default=(0.9, 0.9), converter=tuple)  # type: ignore[misc]
    warmup: float = 0.0  # fraction of the schedule spent ramping the lr up linearly from 0
    ema: float = 0.0  # decay of the weights' moving average (0: off, the raw weights are saved)
    seed: int = 0
    checkpoint_seconds: float = 60.0
    accelerator: str = "cpu"  # auto, cpu, cuda, cuda:N, mps
    amp: str = "off"  # off, bf16, fp16
    workers: int | None = None  # data-loading processes (None: none on the CPU, a few on a GPU)

    def shrink_hint(self) -> str:
        return f"a smaller --batch (now {self.batch}) or --crop (now {self.crop}) needs less memory"

    def progress(self, step: int, elapsed: float) -> float:
        if self.iters is not None:
            return min(step / self.iters, 1.0)
        assert self.minutes is not None
        return min(elapsed / (60.0 * self.minutes), 1.0)


def psnr_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """NAFNet's PSNRLoss: (10 / ln 10) * mean over images of log(MSE + 1e-8), i.e. minus PSNR.

    pred, target: `B x C x H x W` in [0, 1].
    """
    mse = (pred - target).pow(2).flatten(1).mean(1)
    return (10.0 / math.log(10.0)) * torch.log(mse + 1e-8).mean()


def cosine_lr(cfg: TrainConfig, progress: float) -> float:
    """The learning rate at `progress` in [0, 1]: linear warm-up over `cfg.warmup`, then a cosine
    from `cfg.lr` down to `cfg.lr_min` over the rest."""
    if progress < cfg.warmup:
        return cfg.lr * max(progress / cfg.warmup, 1e-3)
    rest = (progress - cfg.warmup) / (1.0 - cfg.warmup) if cfg.warmup < 1.0 else 1.0
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1.0 + math.cos(math.pi * rest))


class WeightAverage:
    """An exponential moving average of a model's floating-point state, updated after each step
    with decay min(`decay`, (1 + step) / (10 + step)), so early weights fade out quickly."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    def update(self, model: nn.Module, step: int) -> None:
        weight = 1.0 - min(self.decay, (1.0 + step) / (10.0 + step))
        current = model.state_dict()
        with torch.no_grad():
            for name, averaged in self.state.items():
                averaged.lerp_(current[name], weight)

    def copy_to(self, model: nn.Module) -> None:
        model.load_state_dict(self.state, strict=False)


def _checkpoint(model: nn.Module, opt: torch.optim.Optimizer, average: WeightAverage | None, amp: Amp, step: int,
                elapsed: float, cfg: TrainConfig, history: list[dict[str, float]]) -> dict[str, Any]:
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "elapsed": elapsed,
             "config": json.dumps(asdict(cfg)), "history": json.dumps(history)}
    if average is not None:
        state["ema"] = average.state
    if amp.scaler is not None:
        state["scaler"] = amp.state_dict()
    return state


def _save(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


@frozen
class TrainResult:
    steps: int
    seconds: float
    final_loss: float
    weights: Path
    history: list[dict[str, float]]


def _resume(ckpt: Path, model: nn.Module, opt: torch.optim.Optimizer, average: WeightAverage | None, amp: Amp,
            cfg: TrainConfig) -> tuple[int, float, list[dict[str, float]]]:
    """Load a checkpoint into the training state; returns (step, elapsed seconds, history)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    amp.load_state_dict(state.get("scaler", {}))
    if average is not None:
        if "ema" not in state:
            raise DataError(f"{ckpt} holds no weight average, but this run asks for one (ema {cfg.ema})",
                            code="E0521", help=f"resume with the settings it was started with, or delete {ckpt}")
        average.state = {k: v.to(amp.device) for k, v in state["ema"].items()}
    return int(state["step"]), float(state["elapsed"]), json.loads(state["history"])


Target = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _one_step(model: nn.Module, opt: torch.optim.Optimizer, amp: Amp, blur: torch.Tensor,
              sharp: torch.Tensor, target: Target | None = None) -> torch.Tensor:
    """Forward (autocast), PSNR loss in float32 against `target(blur, sharp)` (default: `sharp`),
    backward and update; returns the loss."""
    goal = sharp if target is None else target(blur, sharp)
    with amp.autocast():
        pred = model(blur)
    loss = psnr_loss(pred.float(), goal)
    opt.zero_grad(set_to_none=True)
    amp.step(loss, opt)
    return loss


def check_training_fits(g: nx.DiGraph, model: nn.Module, cfg: TrainConfig, device: torch.device) -> None:
    """Refuse (MemoryLimitError) a network or batch whose training step cannot fit on `device`."""
    params = list(model.parameters())
    est = for_training(sum(p.numel() for p in params), g, cfg.crop, cfg.batch, average=cfg.ema > 0)
    there = bool(params) and params[0].device == device  # then free memory already excludes the weights
    check_fits(est, device, hint=cfg.shrink_hint(), resident=est.weights if there else 0)


def train(model: nn.Module, pairs: PairedImages, out: Path, cfg: TrainConfig, *, resume: bool = False,
          metadata: dict[str, str] | None = None, on_step: Callable[[dict[str, float]], None] | None = None,
          graph: nx.DiGraph | None = None, target: Target | None = None) -> TrainResult:
    """Train `model` in place on random crops of `pairs` (it ends holding the weight average when
    `cfg.ema` > 0, back on the CPU); writes `out/checkpoint.pt`, `out/weights.safetensors` and
    `out/train.json`. With the network's IR `graph`, the step's memory is checked first. `target`
    maps a batch (blurred, sharp; `B x C x H x W` on the training device) to what the loss compares
    the output with (default: the sharp crops; e.g. a teacher's restoration, for distillation).

    Raises DataError (no length, a checkpoint without the asked-for average), AcceleratorError
    (an accelerator or AMP mode this machine lacks), MemoryLimitError (does not fit / ran out)."""
    if cfg.iters is None and cfg.minutes is None:
        raise DataError("give a training length: --iters N or --minutes M", code="E0520")
    device = resolve(cfg.accelerator)
    amp = Amp(cfg.amp, device)
    if graph is not None:
        check_training_fits(graph, model, cfg, device)
    out.mkdir(parents=True, exist_ok=True)
    with out_of_memory_as_error("training", device, cfg.shrink_hint()):
        model.to(device)
        result = _train_loop(model, pairs, out, cfg, amp, resume, on_step, target)
    model.to("cpu")
    weights = out / "weights.safetensors"
    save_safetensors(model, weights, metadata or {})
    write_text_atomic(out / "train.json", json.dumps({"config": asdict(cfg), **describe(device, cfg.amp),
                                                      "steps": result.steps, "seconds": result.seconds,
                                                      "final_loss": result.final_loss, "history": result.history},
                                                     indent=1))
    return TrainResult(result.steps, result.seconds, result.final_loss, weights, result.history)


def _train_loop(model: nn.Module, pairs: PairedImages, out: Path, cfg: TrainConfig, amp: Amp, resume: bool,
                on_step: Callable[[dict[str, float]], None] | None, target: Target | None = None) -> TrainResult:
    torch.manual_seed(cfg.seed)
    crops = TrainCrops(pairs, cfg.crop, seed=cfg.seed, length=1 << 30)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=cfg.betas)
    average = WeightAverage(model, cfg.ema) if cfg.ema > 0 else None
    step, elapsed = 0, 0.0
    history: list[dict[str, float]] = []
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():
        step, elapsed, history = _resume(ckpt, model, opt, average, amp, cfg)
    model.train()
    last_save, images, window_t = time.perf_counter(), 0, time.perf_counter()
    start = time.perf_counter() - elapsed
    loss_value = float("nan")
    batches = step_batches(crops, step, cfg.batch, cfg.seed, amp.device, cfg.workers)
    with contextlib.closing(batches):
        while cfg.progress(step, time.perf_counter() - start) < 1.0:
            lr = cosine_lr(cfg, cfg.progress(step, time.perf_counter() - start))
            for g in opt.param_groups:
                g["lr"] = lr
            blur, sharp = next(batches)
            loss = _one_step(model, opt, amp, blur, sharp, target)
            if average is not None:
                average.update(model, step)
            step += 1
            images += blur.shape[0]
            loss_value = float(loss.detach())
            now = time.perf_counter()
            record = {"step": step, "loss": loss_value, "psnr": -loss_value, "lr": lr,
                      "images_per_s": images / max(now - window_t, 1e-9), "elapsed": now - start}
            if step % 25 == 0:
                history.append(record)
                images, window_t = 0, now
            if on_step is not None:
                on_step(record)
            if now - last_save > cfg.checkpoint_seconds:
                _save(ckpt, _checkpoint(model, opt, average, amp, step, now - start, cfg, history))
                last_save = now
    elapsed = time.perf_counter() - start
    _save(ckpt, _checkpoint(model, opt, average, amp, step, elapsed, cfg, history))
    if average is not None:
        average.copy_to(model)
    return TrainResult(step, elapsed, loss_value, out / "weights.safetensors", history)
