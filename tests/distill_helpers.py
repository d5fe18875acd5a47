"""Shared by the tests of archc.runtime.distill (a uniquely named module: tests/ has no packages):
a micro spec with a one-block and a two-block slot, a small paired dataset, and a teacher whose
residual scales are non-zero (a fresh NAFNet block is the identity, which would make every fit
trivial)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from attrs import frozen
from click.testing import CliRunner, Result
from PIL import Image

import archc
from archc.cli import cli
from archc.cli.distill import distill_cmd
from archc.cli.finetune import finetune_cmd
from archc.compiler.weights import save_safetensors
from archc.runtime.distill import DistillConfig


@frozen
class Micro:
    """The micro spec, its dataset and its teacher, written once per session (tests/runtime/distill)."""

    spec: Path
    data: Path
    teacher: Path


MICRO = """\
arch micro {
    channels in 3 out 3
    width 4
    stem conv3x3
    head conv3x3
    down conv2x2
    up pixelshuffle
    skip add
    residual global

    encoder enc1: naf
    encoder enc2: naf x2
    middle mid: naf
    decoder dec2: naf
    decoder dec1: naf
}

search over micro {
    slots enc1, enc2, dec1
    candidates *: naf | naf(sca=off) | dsconv | identity
}
"""

FAST = DistillConfig(iters=12, batch=4, crop=16, crops_per_image=2, fraction=0.5, threads=1)

# The commands are registered in archc/cli/commands.py by the CLI's owner; until then add them here.
for _cmd in (distill_cmd, finetune_cmd):
    if _cmd.name not in cli.commands:
        cli.add_command(_cmd)


def run_cli(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def distill_cli(micro: Any, out: Path, *extra: object) -> Result:
    """`archc distill` of a micro fixture (its spec, teacher and data) into `out`, then `extra`."""
    return run_cli("distill", micro.spec, "--weights", micro.teacher, "--data", micro.data, "--out", out, *extra)


def config_flags(cfg: DistillConfig) -> list[object]:
    """The command-line flags that train with `cfg`'s settings."""
    return ["--iters", cfg.iters, "--batch", cfg.batch, "--crop", cfg.crop, "--crops-per-image",
            cfg.crops_per_image, "--fraction", cfg.fraction, "--threads", cfg.threads or 1]


def write_spec(root: Path) -> Path:
    path = root / "micro.arch"
    path.write_text(MICRO)
    return path


def write_data(root: Path, train: int = 4, test: int = 2, size: int = 24) -> Path:
    """A GoPro-layout set of smooth random images and their horizontally blurred twins."""
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("test", test)):
        for kind in ("blur", "sharp"):
            (root / split / "SEQ" / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            coarse = rng.random((size // 4, size // 4, 3))
            sharp = (np.kron(coarse, np.ones((4, 4, 1))) * 255).astype(np.uint8)
            blur = ((sharp.astype(float) + np.roll(sharp, 2, axis=1)) / 2).astype(np.uint8)
            Image.fromarray(sharp).save(root / split / "SEQ" / "sharp" / f"{i:06d}.png")
            Image.fromarray(blur).save(root / split / "SEQ" / "blur" / f"{i:06d}.png")
    return root


def write_teacher(spec: Path, out: Path, seed: int = 0) -> Path:
    """The micro network with default-initialised convs and residual scales drawn from N(0, 0.5^2)."""
    torch.manual_seed(seed)
    model = archc.build(spec)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("beta", "gamma")):
                p.normal_(0.0, 0.5)
    save_safetensors(model, out)
    return out
