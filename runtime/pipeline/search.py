"""The search stage: the PSNR-drop / latency Pareto front of a spec's slots x candidates, scored
with the distill stage's surrogates, without training; writes OUT/search.json and OUT/front.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrs import frozen
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archc.compiler.frontend import parse

from . import search_inputs as inputs
from .context import Context
from .heartbeat import Heartbeat
from .layout import dataset, folder, teacher_weights

DEFAULT_BUDGET = 100  # networks, when neither the settings nor the spec give a budget


@frozen
class SearchSettings:
    """Search `spec` (teacher `weights`, `surrogates`, `data`: default the run folder's) for
    `budget` networks (None: the spec's, else 100) with `strategy`, `per_round` networks proposed
    per round and evaluated in parallel on `jobs` local processes of `threads` torch threads.
    Latency is `device`'s block table (`latency`: a latency.json to reuse, else profiled at `size`)
    or the `latency_proxy`; `saliency` is the run resolving `exclude top K` lines; quality is scored
    on `val_images` test images (centre `crop` crops); `max_latency` / `max_drop` constrain,
    `budgets_ms` report the best network under each."""

    spec: str
    weights: str | None = None
    surrogates: str | None = None
    data: str | None = None
    out: str | None = None
    device: str = "cpu"
    latency: str | None = None
    latency_proxy: str | None = None
    size: tuple[int, int] | None = None
    budget: int | None = None
    strategy: str = "botorch"
    plugin_report: str | None = None
    seed: int = 0
    saliency: str | None = None
    max_latency: float | None = None
    max_drop: float | None = None
    budgets_ms: tuple[float, ...] = ()
    val_images: int = 8
    crop: int = 128
    per_round: int = 1
    jobs: int = 1
    threads: int | None = None


def search(run_dir: Path, settings: SearchSettings, ctx: Context) -> dict[str, Any]:
    """Search into RUN/search (or `settings.out`); returns search.json's content."""
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.search.objectives import NetworkObjectives, QualityEvaluator
    from archc.runtime.search.run import SearchSetup, fallback_note

    s = settings
    where, record = ctx.where_to_run("off")  # before profiling: fails at once when missing
    weights, data = teacher_weights(run_dir, s.weights), dataset(run_dir, s.data)
    surrogates = s.surrogates or str(Path(run_dir) / "distill" / "surrogates")
    out = folder(run_dir, s.out, "search")
    checked = parse(s.spec)
    space = inputs.space(checked, s.saliency)
    teacher = ctx.check_teacher(checked, weights, data, s.val_images, s.crop)
    rows, source, device, precision_meta, proxy_meta = inputs.rows_and_source(
        checked, space, s.device, s.latency, s.latency_proxy, out, s.size
    )
    ctx.say(f"space: {space.size:,} networks over {len(space.slots)} slots; latency {source} on {device}")
    calibration = inputs.calibration_batch(data, s.val_images, s.crop) if space.has_precision else None
    quality = QualityEvaluator(
        checked,
        space,
        weights,
        surrogates,
        open_dataset(data, split="test"),
        s.val_images,
        s.crop,
        device=where,
        calibration=calibration,
    )
    meta = {"teacher": weights, "surrogates": surrogates, "data": data, **_quality_meta(quality, s.crop)}
    meta |= {"teacher_check": teacher.to_json(), **record, **({"precision": precision_meta} if precision_meta else {})}
    meta |= proxy_meta
    additive = inputs.additive(space, surrogates, s.plugin_report, rows)
    setup = SearchSetup(checked, space, NetworkObjectives(quality, rows.one), rows, source, device, meta, additive)
    if note := fallback_note(setup, s.strategy):
        ctx.say(f"[yellow]note: {note}[/yellow]")
    elif setup.additive is not None:
        ctx.say(f"additive prediction from {setup.additive.source}")
    n = s.budget or (checked.search.budget if checked.search and checked.search.budget else DEFAULT_BUDGET)
    return _run(setup, out, s, n, proxy_meta, ctx)


def _quality_meta(quality: Any, crop: int) -> dict[str, Any]:
    """What search.json records of the validation: its images and crop, and the teacher's PSNR."""
    return {"validation": {"images": quality.names, "crop": crop}, "teacher_psnr": quality.teacher_scores[0]}


def _run(setup: Any, out: Path, s: SearchSettings, n: int, proxy_meta: dict[str, Any], ctx: Context) -> Any:
    from archc.runtime.profile.proxy import latency_text
    from archc.runtime.search.run import run

    total = min(n, setup.space.size)
    with (
        Progress(
            TextColumn("search"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=ctx.console,
        ) as bar,
        Heartbeat("search", console=ctx.console) as beat,
    ):
        task = bar.add_task("search", total=total, info="")

        def on_eval(ev):  # type: ignore[no-untyped-def]
            info = f"drop {ev.psnr_drop:.3f} dB, {latency_text(ev.latency_ms, proxy_meta)} ({ev.strategy})"
            bar.update(task, completed=ev.order + 1, info=info)
            beat.update(f"{ev.order + 1}/{total} networks; last: {info}")

        with _evaluation_executor(ctx, s.jobs, s.threads) as executor:
            setup.meta["execution"] = executor.describe()
            return run(
                setup,
                out,
                s.strategy,
                n,
                s.seed,
                s.per_round,
                budgets_ms=s.budgets_ms,
                max_latency=s.max_latency,
                max_drop=s.max_drop,
                on_eval=on_eval,
                executor=executor,
            )


def evaluation_threads(cluster: str, jobs: int, threads: int | None) -> int:
    """Torch threads per evaluation: `threads` when given; else this process's own count with one
    local job, cores / jobs for a local pool, and 1 on Ray (parallelism comes from its tasks)."""
    import torch

    from archc.runtime.cluster import cores

    if threads:
        return threads
    if cluster != "local":
        return 1
    return torch.get_num_threads() if jobs == 1 else max(1, cores() // jobs)


class _Shared:
    """The context's cluster executor inside a `with`: the context, not the stage, closes it."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def __enter__(self) -> Any:
        return self.executor

    def __exit__(self, *exc: object) -> None:
        return None


def _evaluation_executor(ctx: Context, jobs: int, threads: int | None) -> Any:
    """Local: this process (one job) or a pool, closed after the search; a cluster: the context's."""
    from archc.compiler.blocks.registry import plugin_files
    from archc.runtime.cluster import WorkerSetup, check_cluster, open_executor

    n = evaluation_threads(check_cluster(ctx.cluster), jobs, threads)
    if ctx.cluster == "local":
        return open_executor("local", jobs, WorkerSetup(n, plugin_files()))
    return _Shared(ctx.executor(jobs, n))
