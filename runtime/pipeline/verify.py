"""The verify stage: fine-tune a run's exported pick, score it on the whole test split, time its
ONNX against the teacher's (`runtime.verify`); writes RUN/verify/verify.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrs import frozen

from .context import Context

DEFAULT_STEPS = 300  # about 70 s for the shipped NAFNet on 2 CPU cores


@frozen
class VerifySettings:
    """Fine-tune the pick `steps` steps (0: none) with `loss` (sharp: PSNR against the sharp image;
    teacher: against the teacher's restoration), then time both ONNX files over `rounds`
    interleaved rounds with `clock` (None: the profile's). With `within` (dB), first find the fastest
    network of the search's front whose drop, once fine-tuned, is within it (at most `probes`
    fine-tunings) and verify it in place of the pick."""

    steps: int = DEFAULT_STEPS
    loss: str = "teacher"  # see archc.runtime.verify.finetune
    rounds: int = 50
    seed: int = 0
    clock: str | None = None
    within: float | None = None
    probes: int = 4


def verify(run_dir: Path, settings: VerifySettings, ctx: Context) -> dict[str, Any]:
    """Verify the pick RUN/export holds; returns verify.json's content."""
    from archc.runtime.verify import FinetuneSettings
    from archc.runtime.verify import VerifySettings as Verification
    from archc.runtime.verify import verify as check_pick

    s = settings
    tune = FinetuneSettings(steps=s.steps, loss=s.loss, seed=s.seed, accelerator=ctx.accelerator)
    return check_pick(
        Path(run_dir), Verification(tune, s.rounds, clock=s.clock, within=s.within, probes=s.probes), ctx.say
    )


def forget_stale(run_dir: Path) -> None:
    """A verification of an earlier export is not one of this export: redo it."""
    verified, exported = run_dir / "verify" / "verify.json", run_dir / "export" / "export.json"
    if verified.is_file() and exported.is_file() and exported.stat().st_mtime > verified.stat().st_mtime:
        verified.unlink()


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """What the run's journal (run.json) keeps of a verification."""
    from archc.runtime.verify.table import speedup

    shipped = record["drops"]["qdq" if "qdq" in record["drops"] else "after"]
    return {
        "speedup": speedup(record).get("median"),
        "latency_label": record["latency"]["label"],
        "psnr_drop": shipped["psnr_drop"],
        "psnr_drop_se": shipped["psnr_drop_se"],
        "psnr_on": record["scores"]["teacher"]["on"],
        "finetune_loss": record["finetune"]["loss_text"],
        "finetune_steps": record["finetune"]["steps"],
    }
