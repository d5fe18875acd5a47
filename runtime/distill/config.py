"""The settings of one distillation run, checked once, and the subset of them a resumed run must share."""

from __future__ import annotations

from typing import Any

import attrs
from attrs import frozen

from archc.errors import DistillError

GRANULARITIES = ("slot", "block")
AMP_MODES = ("off", "bf16", "fp16")  # runtime.training.amp.MODES; this module stays free of torch
INITS = ("inherit", "fresh")


@frozen
class DistillConfig:
    """How every surrogate is trained.

    `fraction` of the training pairs (a subset drawn by `seed`) gives `crops_per_image` fixed
    `crop x crop` crops each; surrogates train `iters` AdamW steps (NAFNet's betas 0.9/0.9, cosine
    from `lr` to `lr_min`) on batches of `batch` cached feature maps. `granularity` "slot" trains the
    candidate repeated over the slot's blocks against the slot's input -> output; "block" trains one
    candidate per block against that block's input -> output. `init` "inherit" starts a candidate of
    the original's kind from the teacher's tensors where names and shapes match; "fresh" never does.
    `threads` per job defaults to 1 (parallelism comes from `jobs`). `accelerator` is where the
    surrogates and the teacher's feature pass run (`runtime.accel.accelerator`); `amp` the precision of
    the surrogates' training steps (`runtime.training.amp`), which changes the surrogates, so a resumed run
    must repeat it; the accelerator, like jobs and threads, may differ.

    The peak learning rate is 1e-2, ten times NAFNet's for whole networks: a surrogate is one small
    block fitting one feature map, and at 1e-3 the short schedules archc runs leave it far from
    its fit. Measured on the shipped teachers (300 steps, 10 % of the synthetic training pairs,
    mean plug-in PSNR drop per candidate on 8 test images), 1e-3 -> 3e-3 -> 1e-2 -> 3e-2:
    nafnet_small naf_relu 0.33 -> 0.16 -> 0.11 -> 0.09 dB, mbconv 0.55 -> 0.35 -> 0.18 -> 0.18 dB,
    dsconv 0.61 -> 0.46 -> 0.36 -> 0.32 dB; restormer_small (1e-3 -> 1e-2) naf 0.33 -> 0.09 dB,
    restormer(heads=2, ffn=1.33) 0.29 -> 0.07 dB, dsconv 0.58 -> 0.39 dB; none diverged.

    600 steps by default, where the drops stop falling fast: on nafnet_small's slots at 1e-2 (10 %
    of the pairs, batch 8), 300 -> 600 steps took enc1 mbconv 0.10 -> 0.06 dB, dec1 mbconv 0.15 ->
    0.07, enc1 dsconv 0.27 -> 0.18, enc2 naf_relu 0.08 -> -0.01, enc3 naf_bn 0.21 -> 0.10, while a
    batch of 16 (the same compute) reached 0.07 / 0.10 / 0.24 and 30 % of the pairs at 300 steps
    did no better than 10 %. The demo's search then finds 1.54x within 0.3 dB where it found 1.45x
    (a 700-network local search from the additive front found no more than 1.45x with the 300-step
    surrogates: the surrogates, not the search, set that limit).
    """

    fraction: float = 0.25
    iters: int = 600  # see the class docstring
    batch: int = 8
    crop: int = 64
    crops_per_image: int = 4
    lr: float = 1e-2  # see the class docstring
    lr_min: float = 1e-7
    weight_decay: float = 0.0
    seed: int = 0
    granularity: str = "slot"
    init: str = "inherit"
    jobs: int = 1
    threads: int | None = None
    accelerator: str = "cpu"
    amp: str = "off"

    def check(self) -> DistillConfig:
        """Return self, or raise DistillError naming the first bad setting."""
        problems = [msg for bad, msg in _checks(self) if bad]
        if problems:
            raise DistillError(problems[0], code="E1101", help="see `archc distill --help` for the valid ranges")
        return self

    def run_key(self) -> dict[str, Any]:
        """The settings that decide the surrogates: a resumed run must repeat them exactly."""
        skip = {"jobs", "threads", "accelerator"} | ({"amp"} if self.amp == "off" else set())
        # amp "off" is left out so that runs started before the setting existed still resume
        return {k: v for k, v in attrs.asdict(self).items() if k not in skip}


def _checks(c: DistillConfig) -> list[tuple[bool, str]]:
    return [
        (not 0.0 < c.fraction <= 1.0, f"--fraction must be in (0, 1], not {c.fraction}"),
        (c.iters < 0, f"--iters must be 0 (candidates as initialised) or more, not {c.iters}"),
        (c.batch < 1, f"--batch must be positive, not {c.batch}"),
        (c.crop < 1, f"--crop must be positive, not {c.crop}"),
        (c.crops_per_image < 1, f"--crops-per-image must be positive, not {c.crops_per_image}"),
        (c.lr <= 0.0, f"--lr must be positive, not {c.lr}"),
        (c.jobs < 1, f"--jobs must be positive, not {c.jobs}"),
        (c.threads is not None and c.threads < 1, f"--threads must be positive, not {c.threads}"),
        (c.granularity not in GRANULARITIES, f"--granularity must be one of {GRANULARITIES}, not {c.granularity!r}"),
        (c.init not in INITS, f"--init must be one of {INITS}, not {c.init!r}"),
        (c.amp not in AMP_MODES, f"--amp must be one of {AMP_MODES}, not {c.amp!r}"),
    ]
