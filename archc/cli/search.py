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
from archc.runtime.profile.proxy import PROXIES

from .accel import accelerator_option, where_to_run
from .cluster import check_cluster_option, cluster_option, evaluation_executor
from .heartbeat import Heartbeat
from .output import console
from .params import WEIGHTS
from .teacher import allow_weak_teacher_option, check_teacher

STRATEGY_NAMES = ["botorch", "botorch-random", "additive", "random", "nsga2", "tpe"]


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
    from archc.runtime.accel.accelerator import int8_instructions

    meta["cpu_int8"] = int8_instructions()
    return rows, "predicted from measured block tables (QDQ in ONNX Runtime)", meta


def _proxy_latency(spec, space, proxy: str) -> tuple[Any, str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A proxy in place of a device (`runtime/profile/proxy.py`): a count, labelled as such."""
    from archc.runtime.profile.proxy import SOURCE, UNIT, proxy_table

    if space.has_precision:
        raise SearchError("a latency proxy prices blocks, not precisions", code="E0714",
                          help="drop `--latency-proxy` or the spec's `precision` line")
    table = proxy_table(proxy, spec, space)
    return table, SOURCE, {"latency_proxy": proxy, "latency_unit": UNIT, "proxy_table": table.record()}


def _calibration_batch(data: str, images: int, crop: int):  # type: ignore[no-untyped-def]
    import numpy as np
    import torch

    from archc.runtime.data.calibration import calibration_images

    return torch.from_numpy(np.concatenate(calibration_images(data, images, crop, split="train")))


def _front_table(results: dict[str, Any]) -> Table:
    evals = results["evaluations"]
    table = Table(title=f"Pareto front ({len(results['pareto'])} of {len(evals)} networks)", title_justify="left")
    lat = f"latency {results.get('latency_unit', 'ms')}"
    numbers = ("#", lat, "PSNR drop dB", "± se", "additive dB")
    for col in (*numbers, "origin", "network", "pick"):
        table.add_column(col, justify="right" if col in numbers else "left")
    for i in results["pareto"]:
        e = evals[i]
        picks = [p for p, j in (("knee", results["knee"]), ("fastest", results["fastest"])) if j == i]
        if flag := results.get("beats_teacher", {}).get(str(i)):
            picks.append(f"[yellow]beats teacher +{flag['gain_db']:.3f} dB > noise {flag['noise_db']:.3f}[/yellow]")
        se = e["objectives"].get("psnr_drop_se")
        additive = e.get("additive", {}).get("psnr_drop")
        table.add_row(str(i), f"{e['objectives']['latency_ms']:.2f}", f"{e['objectives']['psnr_drop']:.3f}",
                      "" if se is None else f"{se:.3f}", "" if additive is None else f"{additive:.3f}",
                      e.get("origin", ""), e["canonical"], ", ".join(picks))
    return table


def _speedup_line(results: dict[str, Any]) -> str | None:
    """Best speed-up within each reported drop (latencies as the search labels them)."""
    within = results.get("speedup_within") or {}
    if not within:
        return None
    parts = [f"{d} dB: " + ("none" if w is None else f"{w['speedup']:.2f}x (#{w['index']}, {w['psnr_drop']:.3f} dB)")
             for d, w in within.items()]
    return f"best speed-up within {'; '.join(parts)} ({results['latency_source']} on {results['device']})"


def _additive(space, surrogates: str, report: str | None, rows):  # type: ignore[no-untyped-def]
    """The additive prediction (plug-in drops + the search's latency terms), or why there is none."""
    from archc.runtime.search.additive import load, plugin_report

    path = report if report is not None else plugin_report(surrogates)
    return load(space, path, rows.base, rows.matrix)


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
@click.option("--latency-proxy", type=click.Choice(PROXIES),
              help="Price networks by a proxy instead of --device: `transformer-count` = transformer blocks in "
                   "the network (a count, not ms; nothing is profiled).")
@click.option("--size", nargs=2, type=int, help="Profiling input H W (default: the device's).")
@click.option("--budget", type=int, help="Networks to evaluate (default: the spec's `budget`, else 100).")
@click.option("--strategy", type=click.Choice(STRATEGY_NAMES), default="botorch", show_default=True,
              help="botorch starts from the additive prediction of the distill stage's plug-in drops; "
                   "botorch-random from random networks (no prediction); additive scores the prediction's front "
                   "alone; random, nsga2 and tpe are baselines.")
@click.option("--plugin-report", type=click.Path(dir_okay=False),
              help="The distill stage's distill.json (default: the one beside --surrogates).")
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
               threads: int | None = None, cluster: str = "local", allow_weak_teacher: bool = False,
               plugin_report: str | None = None, latency_proxy: str | None = None) -> None:
    """Search SPEC's slots x candidates for the PSNR-drop / latency Pareto front, without training."""
    from archc.runtime.data.datasets import open_dataset
    from archc.runtime.profile.proxy import latency_text
    from archc.runtime.search.objectives import NetworkObjectives, QualityEvaluator, latency_matrix, rows_latency
    from archc.runtime.search.run import SearchSetup, fallback_note, run

    where, record = where_to_run(accelerator, "off", cluster)  # before profiling: fails at once when missing
    checked = parse(spec)
    check_cluster_option(cluster)
    space = _space(checked, saliency)
    teacher = check_teacher(checked, weights, data, val_images, crop, allow_weak_teacher, accelerator)
    out_dir = Path(out)
    wanted_size = (size[0], size[1]) if size else None
    precision_meta: dict[str, Any] = {}
    rows: Any
    proxy_meta: dict[str, Any] = {}
    if latency_proxy is not None:
        table, source, proxy_meta = _proxy_latency(checked, space, latency_proxy)
        rows = rows_latency(*latency_matrix(space, table.predict))
        proxy_meta["verified_on"] = device  # a proxy prices nothing: the verify stage times on the real device
        device = f"proxy:{latency_proxy}"
    elif space.has_precision:
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
                         **({"precision": precision_meta} if precision_meta else {}), **proxy_meta},
                        _additive(space, surrogates, plugin_report, rows))
    if note := fallback_note(setup, strategy):
        console.print(f"[yellow]note: {note}[/yellow]")
    elif setup.additive is not None:
        console.print(f"additive prediction from {setup.additive.source}")
    n = budget or (checked.search.budget if checked.search and checked.search.budget else 100)
    with Progress(TextColumn("search"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), console=console) as bar, Heartbeat("search") as beat:
        task = bar.add_task("search", total=min(n, space.size), info="")

        def on_eval(ev):  # type: ignore[no-untyped-def]
            info = f"drop {ev.psnr_drop:.3f} dB, {latency_text(ev.latency_ms, proxy_meta)} ({ev.strategy})"
            bar.update(task, completed=ev.order + 1, info=info)
            beat.update(f"{ev.order + 1}/{min(n, space.size)} networks; last: {info}")

        with evaluation_executor(cluster, jobs, threads) as executor:
            setup.meta["execution"] = executor.describe()
            results = run(setup, out_dir, strategy, n, seed, batch, budgets_ms=budgets_ms, max_latency=max_latency,
                          max_drop=max_drop, on_eval=on_eval, executor=executor)
    console.print(_front_table(results))
    if line := _speedup_line(results):
        console.print(line)
    _warn_beats_teacher(results)
    console.print(f"wrote {out_dir / 'search.json'}, {out_dir / 'front.png'}")


@click.command("export")
@click.argument("run", type=click.Path())
@click.option("--pick", default="knee", show_default=True,
              help="knee, fastest, drop<=DB (best speed-up within DB), speedup>=X (least drop at X times faster), "
                   "best-under=MS, or an index.")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--choice", help="A hand pick instead of --pick: SLOT=BLOCK;... (its objectives predicted as the "
                               "search predicts them).")
@click.option("--precisions", help="With --choice in a precision search: SLOT=PRECISION;... or *=w8a8.")
@accelerator_option
def export_cmd(run: str, pick: str, out: str, accelerator: str = "auto", choice: str | None = None,
               precisions: str | None = None) -> None:
    """Write one network of a search RUN as a fixed .arch spec, safetensors weights and ONNX (and,
    when the search chose quantized precisions for its slots, a mixed-precision QDQ ONNX)."""
    from archc.runtime.profile.proxy import latency_text
    from archc.runtime.search.export import export
    from archc.runtime.search.pick import check_pick

    s = export(run, check_pick(pick), out, accelerator, choice, precisions)
    console.print(f"{s['pick']}: {s['canonical']}")
    ms = s["objectives"]["latency_ms"]
    console.print(f"  PSNR drop {s['objectives']['psnr_drop']:.3f} dB, latency "
                  + ("not predicted" if ms is None else latency_text(ms, s)))
    if s["reproduced_psnr"] is not None:
        console.print(f"  exported spec reproduces PSNR {s['reproduced_psnr']:.3f} dB "
                      f"(reported {s['reported_psnr']:.3f} dB)")
    for key in ("spec", "weights"):
        console.print(f"wrote {s[key]}")
    console.print(f"wrote {s['onnx']['path']}")
    if "qdq" in s:
        console.print(f"wrote {s['qdq']['path']} ({s['qdq']['quantized_nodes']} quantized nodes, calibrated on "
                      f"{s['qdq']['calibration']})")
