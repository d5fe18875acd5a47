"""`archc search` and `archc export`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archc.api import parse
from archc.errors import SearchError

from .accel import accelerator_option, where_to_run
from .cluster import check_cluster_option, cluster_option, evaluation_executor
from .compile import check_formats
from .heartbeat import Heartbeat
from .output import console
from .params import WEIGHTS, format_option
from .teacher import allow_weak_teacher_option, check_teacher


def _space(spec, saliency: str | None):  # type: ignore[no-untyped-def]
    from archc.compiler.space import SearchSpace

    excluded: tuple[str, ...] = ()
    if spec.search is not None and spec.search.saliency_rules:
        if saliency is None:
            raise SearchError("the spec has `exclude top K by METRIC` but no saliency run was given", code="E0711",
                              help="run `archc saliency ... --out RUN` and pass `--saliency RUN`")
        from archc.runtime.saliency.resolve import resolve

        excluded = resolve(spec, saliency).excluded
    return SearchSpace.of(spec, exclude=excluded)


def _latency(spec, space, device: str, latency: str | None, out: Path, size: tuple[int, int] | None):  # type: ignore[no-untyped-def]
    from archc.runtime.profile.run import Request, execute
    from archc.runtime.profile.table import table_from_record

    if latency is not None:
        data = json.loads(Path(latency).read_text())
        table = table_from_record(spec, data)
        kind = data.get("label", data.get("device", {}).get("kind", "measured"))
    else:
        record, table = execute(Request(spec, device, size=size, out=out / "profile"))
        kind = record.label  # the device says how its figures are obtained; a phone's are measured
    source = "modelled" if kind == "modelled" else "predicted from measured block table"
    return table, source


def _precision_latency(spec, space, device: str, latency: str | None, out: Path,  # type: ignore[no-untyped-def]
                       size: tuple[int, int] | None) -> tuple[Any, str, dict[str, Any]]:
    """Latency of block-and-precision rows: one block table per precision (`runtime/profile/precision.py`)."""
    from archc.runtime.profile.precision import MODELLED, MixedRowsLatency, mixed_latency, precision_tables

    if latency is not None:
        raise SearchError("`--latency` reuses one precision's block table; a precision search builds one per "
                          "precision", code="E0714", help="drop `--latency`")
    wanted = sorted({p for s in space.slots for p in s.precisions})
    tables = precision_tables(spec, device, wanted, size, out / "profile")
    rows = MixedRowsLatency(*mixed_latency(space, tables))
    meta: dict[str, Any] = {"precisions": wanted, "latency_tables": {p: t.size for p, t in tables.items()}}
    if device in MODELLED:
        return rows, "modelled", meta
    from archc.runtime.accelerator import int8_instructions

    meta["cpu_int8"] = int8_instructions()
    return rows, "predicted from measured block tables (QDQ in ONNX Runtime)", meta


def _calibration_batch(data: str, images: int, crop: int):  # type: ignore[no-untyped-def]
    import numpy as np
    import torch

    from archc.runtime.data.calibration import calibration_images

    return torch.from_numpy(np.concatenate(calibration_images(data, images, crop, split="train")))


def _front_table(results: dict[str, Any]) -> Table:
    evals = results["evaluations"]
    table = Table(title=f"Pareto front ({len(results['pareto'])} of {len(evals)} networks)", title_justify="left")
    for col in ("#", "latency ms", "PSNR drop dB", "network", "pick"):
        table.add_column(col, justify="right" if col in ("#", "latency ms", "PSNR drop dB") else "left")
    for i in results["pareto"]:
        e = evals[i]
        picks = [p for p, j in (("knee", results["knee"]), ("fastest", results["fastest"])) if j == i]
        if flag := results.get("beats_teacher", {}).get(str(i)):
            picks.append(f"[yellow]beats teacher +{flag['gain_db']:.3f} dB > noise {flag['noise_db']:.3f}[/yellow]")
        table.add_row(str(i), f"{e['objectives']['latency_ms']:.2f}", f"{e['objectives']['psnr_drop']:.3f}",
                      e["canonical"], ", ".join(picks))
    return table


def _warn_beats_teacher(results: dict[str, Any]) -> None:
    flags = results.get("beats_teacher", {})
    if flags:
        first = next(iter(flags.values()))
        console.print(f"[yellow]warning: {len(flags)} of {len(results['evaluations'])} networks beat the teacher; "
                      f"e.g. #{next(iter(flags))} {first['reason']}[/yellow]")


@click.command("search")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=WEIGHTS, help="Teacher weights.")
@click.option("--surrogates", required=True, type=click.Path(file_okay=False), help="Surrogate bank folder.")
@click.option("--data", required=True, type=click.Path(file_okay=False), help="Dataset (its test split validates).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--latency", type=click.Path(dir_okay=False), help="A latency.json from `archc profile` to reuse.")
@click.option("--size", nargs=2, type=int, help="Profiling input H W (default: the device's).")
@click.option("--budget", type=int, help="Networks to evaluate (default: the spec's `budget`, else 100).")
@click.option("--strategy", type=click.Choice(["botorch", "random", "nsga2", "tpe"]), default="botorch",
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--saliency", type=click.Path(), help="Saliency run resolving `exclude top K by METRIC`.")
@click.option("--max-latency", type=float, help="Constraint: latency at most MS.")
@click.option("--max-drop", type=float, help="Constraint: PSNR drop at most DB.")
@click.option("--budget-ms", "budgets_ms", multiple=True, type=float, help="Report the best network under MS.")
@click.option("--val-images", type=int, default=8, show_default=True)
@click.option("--crop", type=int, default=128, show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False))
@accelerator_option
@click.option("--batch", type=click.IntRange(1), default=1, show_default=True,
              help="Networks proposed per round (q) and evaluated in parallel.")
@click.option("--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Local processes evaluating a round (with --cluster local).")
@click.option("--threads", type=click.IntRange(1),
              help="Torch threads per evaluation (default: this process's with --jobs 1, cores / jobs for a "
                   "local pool, 1 on Ray). The same threads give the same results on every --cluster.")
@cluster_option
@allow_weak_teacher_option
def search_cmd(spec: str, weights: str, surrogates: str, data: str, device: str, latency: str | None,
               size: tuple[int, int] | None, budget: int | None, strategy: str, seed: int, saliency: str | None,
               max_latency: float | None, max_drop: float | None, budgets_ms: Sequence[float], val_images: int,
               crop: int, out: str, accelerator: str = "auto", batch: int = 1, jobs: int = 1,
               threads: int | None = None, cluster: str = "local", allow_weak_teacher: bool = False) -> None:
    """Search SPEC's slots x candidates for the PSNR-drop / latency Pareto front, without training."""
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.search.objectives import NetworkObjectives, QualityEvaluator, latency_matrix, rows_latency
    from archc.runtime.search.run import SearchSetup, run

    where, record = where_to_run(accelerator, "off", cluster)  # before profiling: fails at once when missing
    checked = parse(spec)
    check_cluster_option(cluster)
    space = _space(checked, saliency)
    teacher = check_teacher(checked, weights, data, val_images, crop, allow_weak_teacher, accelerator)
    out_dir = Path(out)
    wanted_size = (size[0], size[1]) if size else None
    precision_meta: dict[str, Any] = {}
    rows: Any
    if space.has_precision:
        rows, source, precision_meta = _precision_latency(checked, space, device, latency, out_dir, wanted_size)
    else:
        table, source = _latency(checked, space, device, latency, out_dir, wanted_size)
        rows = rows_latency(*latency_matrix(space, table.predict))
    console.print(f"space: {space.size:,} networks over {len(space.slots)} slots; latency {source} on {device}")
    calibration = _calibration_batch(data, val_images, crop) if space.has_precision else None
    quality = QualityEvaluator(checked, space, weights, surrogates, open_dataset(data, split="test"),
                               val_images, crop, device=where, calibration=calibration)
    objectives = NetworkObjectives(quality, rows.one)
    setup = SearchSetup(checked, space, objectives, rows, source, device,
                        {"teacher": weights, "surrogates": surrogates, "data": data,
                         "validation": {"images": quality.names, "crop": crop},
                         "teacher_psnr": quality.teacher_scores[0], "teacher_check": teacher.to_json(), **record,
                         **({"precision": precision_meta} if precision_meta else {})})
    n = budget or (checked.search.budget if checked.search and checked.search.budget else 100)
    with Progress(TextColumn("search"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), console=console) as bar, Heartbeat("search") as beat:
        task = bar.add_task("search", total=min(n, space.size), info="")

        def on_eval(ev):  # type: ignore[no-untyped-def]
            info = f"drop {ev.psnr_drop:.3f} dB, {ev.latency_ms:.2f} ms ({ev.strategy})"
            bar.update(task, completed=ev.order + 1, info=info)
            beat.update(f"{ev.order + 1}/{min(n, space.size)} networks; last: {info}")

        with evaluation_executor(cluster, jobs, threads) as executor:
            setup.meta["execution"] = executor.describe()
            results = run(setup, out_dir, strategy, n, seed, batch, budgets_ms=budgets_ms, max_latency=max_latency,
                          max_drop=max_drop, on_eval=on_eval, executor=executor)
    console.print(_front_table(results))
    _warn_beats_teacher(results)
    console.print(f"wrote {out_dir / 'search.json'}, {out_dir / 'front.png'}")


@click.command("export")
@click.argument("run", type=click.Path())
@click.option("--pick", default="knee", show_default=True, help="knee, fastest, best-under=MS, or an index.")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@accelerator_option
@format_option
def export_cmd(run: str, pick: str, out: str, accelerator: str = "auto", formats: tuple[str, ...] = ("onnx",)) -> None:
    """Write one network of a search RUN as a fixed .arch spec, safetensors weights and ONNX / .pte / .tflite."""
    from archc.runtime.search.export import export

    check_formats(formats, "fp32", "minmax")
    s = export(run, pick, out, accelerator, formats)
    console.print(f"{pick}: {s['canonical']}")
    console.print(f"  PSNR drop {s['objectives']['psnr_drop']:.3f} dB, latency {s['objectives']['latency_ms']:.3f} ms")
    if s["reproduced_psnr"] is not None:
        console.print(f"  exported spec reproduces PSNR {s['reproduced_psnr']:.3f} dB "
                      f"(reported {s['reported_psnr']:.3f} dB)")
    for key in ("spec", "weights"):
        console.print(f"wrote {s[key]}")
    if "onnx" in s:
        console.print(f"wrote {s['onnx']['path']}")
    for fmt in ("pte", "tflite"):
        if fmt in s:
            console.print(f"wrote {s[fmt]['path']} ({s[fmt]['runtime']}, input {s[fmt]['input']})")
