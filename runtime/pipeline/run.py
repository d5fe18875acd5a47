"""The whole method as one `Pipeline`: data, teacher, teacher check, saliency, profile, distill,
search, export, verify and report, each skipped when its results are in the run folder already
(`layout.MARKERS`; delete a stage's folder to redo it). One `Context` serves every stage, so the
accelerator is resolved once, the cluster opened once and the teacher checked once.

`precision` searches each slot's precision too (fp16 or these), as a `precision *: P` line in the
spec's search would: the search stage reads RUN/<name>.precision.arch, the spec with that line.
Timings go to RUN/run.json, with the accelerator, its name and the AMP setting of each stage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from attrs import field, frozen

from archc.compiler.files import write_text_atomic
from archc.compiler.frontend import parse
from archc.dsl.check import SALIENCY_METRICS
from archc.dsl.spec import Spec
from archc.runtime.distill.config import DistillConfig

from . import layout
from .context import Context
from .data import DataSettings, data
from .distill import DistillSettings, distill
from .export import ExportSettings, export
from .profile import ProfileSettings, profile
from .report import report
from .saliency import SaliencySettings, saliency
from .search import SearchSettings, search
from .train import TEACHER_EMA, TEACHER_LR, TrainSettings, train
from .verify import VerifySettings, forget_stale, summary, verify
from .with_precision import with_precision

RUN_BUDGET = 40  # networks the run's search evaluates when neither the settings nor the spec say


@frozen
class RunSettings:
    """The method on `spec`: `data` (None: a synthetic blur set), teacher `weights` (None: trained
    for `train_iters` steps, else `train_minutes`), latency on `device` (or `latency_proxy`), a
    search of `budget` networks (None: the spec's, else 40) with `strategy`, `per_round` per round,
    the `pick` exported and verified (`verify`, with the `verify_*` fine-tuning and timing). The
    other fields size the saliency, profile and distill stages; `precision` adds a precision
    search (e.g. "w8a8"); `formats` are the network files the export writes (onnx, pte, tflite)."""

    spec: str
    data: str | None = None
    weights: str | None = None
    device: str = "cpu"
    latency_proxy: str | None = None
    budget: int | None = None
    strategy: str = "botorch"
    pick: str = "knee"
    train_minutes: float = 15.0
    train_iters: int | None = None
    distill_iters: int = DistillConfig().iters  # the distill stage's defaults, stated once
    distill_fraction: float = DistillConfig().fraction
    saliency_batches: int = 4
    saliency_metrics: tuple[str, ...] = SALIENCY_METRICS
    ablate: bool = True
    jobs: int = 2
    size: tuple[int, int] = (256, 256)
    val_images: int = 8
    seed: int = 0
    per_round: int = 1
    precision: str | None = None
    verify: bool = True
    verification: VerifySettings = field(factory=VerifySettings)
    formats: tuple[str, ...] = ("onnx",)


class Pipeline:
    """`Pipeline(run_dir, settings, ctx).run()` runs every stage not done yet and returns the
    journal (RUN/run.json). A failing stage is journalled as failed and its error raised again;
    `failed` names it. `on_result(stage, result)` sees what each stage returned (to print it)."""

    def __init__(
        self,
        run_dir: str | Path,
        settings: RunSettings,
        ctx: Context,
        on_result: Callable[[str, Any], None] = lambda stage, result: None,
    ) -> None:
        self.out, self.settings, self.ctx, self.on_result = Path(run_dir), settings, ctx, on_result
        self.log_path = self.out / "run.json"
        self.log: dict[str, Any] = {}
        self.where: dict[str, str] = {}
        self.failed: str | None = None

    def run(self) -> dict[str, Any]:
        from archc.compiler.mobile import check_formats
        from archc.runtime.accel.accelerator import describe
        from archc.runtime.search.pick import check_pick

        s = self.settings
        checked = parse(s.spec)
        check_pick(s.pick)  # a malformed pick fails before any stage
        check_formats(s.formats, "fp32")  # so does a phone format whose runtime is not installed
        searched = s.spec if s.precision is None else str(with_precision(checked, s.precision, self.out))
        checked = parse(searched) if s.precision is not None else checked
        self.ctx.check()  # a bad cluster, accelerator or precision fails before any stage
        self.ctx.executor(self.ctx.jobs)  # one connection for the whole run
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = json.loads(self.log_path.read_text()) if self.log_path.is_file() else {}
        self.where = describe(self.ctx.device(), self.ctx.amp)
        for name, marker, action in self.stages(checked, searched):
            self.stage(name, marker, action)
        return self.log

    def stages(self, checked: Spec, searched: str) -> Iterator[tuple[str, Path | None, Callable[[], Any]]]:
        """(name, the file that marks it done or None, what runs it) in order, each made when the
        stages before it are done."""
        s, out, ctx = self.settings, self.out, self.ctx
        mark = {name: out / rel for name, rel in layout.MARKERS.items()}
        if s.data is None:
            yield "data", mark["data"], lambda: data(out, DataSettings(seed=s.seed, overwrite=True), ctx)
        if s.weights is None:
            yield "teacher", mark["teacher"], lambda: train(out, self._teacher_settings(), ctx)
        yield "teacher check", None, lambda: self._check_teacher(checked)
        yield "saliency", mark["saliency"], lambda: saliency(out, self._saliency_settings(), ctx)
        yield (
            "profile",
            mark["profile"],
            lambda: profile(out, ProfileSettings(s.spec, s.device, s.size, resume=True), ctx),
        )
        yield "distill", mark["distill"], lambda: distill(out, self._distill_settings(), ctx)
        yield "search", mark["search"], lambda: search(out, self._search_settings(checked, searched), ctx)
        yield "export", mark["export"], lambda: export(out, ExportSettings(s.pick, formats=s.formats), ctx)
        if s.verify:
            forget_stale(out)
            yield "verify", mark["verify"], lambda: verify(out, self._verify_settings(), ctx)
        (out / "report.html").unlink(missing_ok=True)
        yield "report", mark["report"], lambda: report(out, checked, ctx)

    def _weights(self) -> str:
        return layout.teacher_weights(self.out, self.settings.weights)

    def _data(self) -> str:
        return layout.dataset(self.out, self.settings.data)

    def _teacher_settings(self) -> TrainSettings:
        s = self.settings
        return TrainSettings(
            s.spec,
            self._data(),
            iters=s.train_iters,
            minutes=None if s.train_iters else s.train_minutes,
            lr=TEACHER_LR,
            ema=TEACHER_EMA,
            seed=s.seed,
            resume=True,
        )

    def _check_teacher(self, checked: Spec) -> dict[str, Any]:
        from archc.runtime.evaluation.guard import VAL_CROP

        found = self.ctx.check_teacher(checked, self._weights(), self._data(), self.settings.val_images, VAL_CROP)
        return dict(found.to_json())

    def _saliency_settings(self) -> SaliencySettings:
        s = self.settings
        return SaliencySettings(
            s.spec,
            self._weights(),
            self._data(),
            batches=s.saliency_batches,
            crop=64,
            metrics=s.saliency_metrics,
            ablate=s.ablate,
            val_images=s.val_images,
            val_crop=128,
            seed=s.seed,
        )

    def _distill_settings(self) -> DistillSettings:
        s = self.settings
        config = DistillConfig(fraction=s.distill_fraction, iters=s.distill_iters, seed=s.seed, jobs=s.jobs)
        return DistillSettings(s.spec, self._weights(), self._data(), config=config, val_images=s.val_images)

    def _search_settings(self, checked: Spec, searched: str) -> SearchSettings:
        s, out = self.settings, self.out
        budget = s.budget or (checked.search.budget if checked.search and checked.search.budget else RUN_BUDGET)
        has_precision = checked.search is not None and checked.search.has_precision
        needs_saliency = checked.search is not None and bool(checked.search.saliency_rules)
        return SearchSettings(
            searched,
            layout.teacher_weights(out, s.weights),
            data=layout.dataset(out, s.data),
            device=s.device,
            latency=None if has_precision else str(out / layout.MARKERS["profile"]),
            size=s.size,
            budget=budget,
            strategy=s.strategy,
            seed=s.seed,
            val_images=s.val_images,
            saliency=str(out / "saliency") if needs_saliency else None,
            per_round=s.per_round,
            jobs=min(s.jobs, s.per_round),
            latency_proxy=s.latency_proxy,
        )

    def _verify_settings(self) -> VerifySettings:
        v = self.settings.verification
        return VerifySettings(v.steps, v.loss, v.rounds, self.settings.seed, v.clock, v.within, v.probes)

    def stage(self, name: str, marker: Path | None, action: Callable[[], Any]) -> None:
        """Run `action` unless `marker` (None: always run) says the stage is done."""
        if marker is not None and layout.done(marker):
            self.ctx.say(f"[bold]{name}[/bold]: done already ({marker.relative_to(self.out)}), skipped")
            self.log.setdefault(name, {})["skipped_last_run"] = True
            return
        self.ctx.console.rule(f"{name}")
        t0 = time.perf_counter()
        try:
            result = action()
        except Exception as exc:
            self.failed = name
            self.log[name] = {"status": "failed", "error": str(exc)}
            write_text_atomic(self.log_path, json.dumps(self.log, indent=1) + "\n")
            raise
        self.on_result(name, result)
        found = summary(result) if name == "verify" else result if name == "teacher check" else {}
        self.log[name] = {
            "seconds": round(time.perf_counter() - t0, 2),
            "status": "complete",
            "skipped_last_run": False,
            **self.where,
            **found,
        }
        write_text_atomic(self.log_path, json.dumps(self.log, indent=1) + "\n")
