"""`archc search` and `archc export`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archc.runtime.profile.proxy import PROXIES

from .options import (
    accelerator_option,
    allow_weak_teacher_option,
    cluster_option,
    context,
    data_option,
    device_option,
    format_option,
    jobs_option,
    per_round_option,
    seed_option,
    size_option,
    spec_argument,
    val_images_option,
    weights_option,
)
from .output import console

STRATEGY_NAMES = ["botorch", "botorch-random", "additive", "random", "nsga2", "tpe"]  # runtime.search.run.STRATEGIES


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


def _warn_beats_teacher(results: dict[str, Any]) -> None:
    flags = results.get("beats_teacher", {})
    if flags:
        first = next(iter(flags.values()))
        console.print(f"[yellow]warning: {len(flags)} of {len(results['evaluations'])} networks beat the teacher; "
                      f"e.g. #{next(iter(flags))} {first['reason']}[/yellow]")


@click.command("search")
@spec_argument
@weights_option(text="Teacher weights.")
@click.option("--surrogates", required=True, type=click.Path(file_okay=False), help="Surrogate bank folder.")
@data_option("Dataset (its test split validates).")
@device_option
@click.option("--latency", type=click.Path(dir_okay=False), help="A latency.json from `archc profile` to reuse.")
@click.option("--latency-proxy", type=click.Choice(PROXIES),
              help="Price networks by a proxy instead of --device: `transformer-count` = transformer blocks in "
                   "the network (a count, not ms; nothing is profiled).")
@size_option(None, "Profiling input H W (default: the device's).")
@click.option("--budget", type=int, help="Networks to evaluate (default: the spec's `budget`, else 100).")
@click.option("--strategy", type=click.Choice(STRATEGY_NAMES), default="botorch", show_default=True,
              help="botorch starts from the additive prediction of the distill stage's plug-in drops; "
                   "botorch-random from random networks (no prediction); additive scores the prediction's front "
                   "alone; random, nsga2 and tpe are baselines.")
@click.option("--plugin-report", type=click.Path(dir_okay=False),
              help="The distill stage's distill.json (default: the one beside --surrogates).")
@seed_option
@click.option("--saliency", type=click.Path(), help="Saliency run resolving `exclude top K by METRIC`.")
@click.option("--max-latency", type=float, help="Constraint: latency at most MS.")
@click.option("--max-drop", type=float, help="Constraint: PSNR drop at most DB.")
@click.option("--budget-ms", "budgets_ms", multiple=True, type=float, help="Report the best network under MS.")
@val_images_option(8, "Test images (centre crops) each network is scored on.")
@click.option("--crop", type=int, default=128, show_default=True, help="Centre crop of each validation image, in px.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for search.json and front.png.")
@accelerator_option
@per_round_option
@jobs_option(1, "Local processes evaluating a round (with --cluster local).")
@click.option("--threads", type=click.IntRange(1),
              help="Torch threads per evaluation (default: this process's with --jobs 1, cores / jobs for a "
                   "local pool, 1 on Ray). The same threads give the same results on every --cluster.")
@cluster_option
@allow_weak_teacher_option
def search_cmd(spec: str, weights: str, surrogates: str, data: str, device: str, latency: str | None,
               size: tuple[int, int] | None, budget: int | None, strategy: str, seed: int, saliency: str | None,
               max_latency: float | None, max_drop: float | None, budgets_ms: Sequence[float], val_images: int,
               crop: int, out: str, accelerator: str = "auto", per_round: int = 1, jobs: int = 1,
               threads: int | None = None, cluster: str = "local", allow_weak_teacher: bool = False,
               plugin_report: str | None = None, latency_proxy: str | None = None) -> None:
    """Search SPEC's slots x candidates for the PSNR-drop / latency Pareto front, without training."""
    from archc.runtime.pipeline import SearchSettings, search

    settings = SearchSettings(spec, weights, surrogates, data, out, device, latency, latency_proxy,
                              (size[0], size[1]) if size else None, budget, strategy, plugin_report, seed, saliency,
                              max_latency, max_drop, tuple(budgets_ms), val_images, crop, per_round, jobs, threads)
    with context(accelerator, cluster=cluster, jobs=jobs, allow_weak_teacher=allow_weak_teacher) as ctx:
        print_search(search(Path(out), settings, ctx), Path(out))


def print_search(results: dict[str, Any], out_dir: Path) -> None:
    """The front table and lines of a search stage's results."""
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
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the exported network.")
@click.option("--choice", help="A hand pick instead of --pick: SLOT=BLOCK;... (its objectives predicted as the "
                               "search predicts them).")
@click.option("--precisions", help="With --choice in a precision search: SLOT=PRECISION;... or *=w8a8.")
@accelerator_option
@format_option
def export_cmd(run: str, pick: str, out: str, accelerator: str = "auto", choice: str | None = None,
               precisions: str | None = None, formats: tuple[str, ...] = ("onnx",)) -> None:
    """Write one network of a search RUN as a fixed .arch spec, safetensors weights and ONNX / .pte /
    .tflite (and, when the search chose quantized precisions for its slots, a mixed-precision QDQ ONNX)."""
    from archc.runtime.pipeline import Context, ExportSettings, export

    settings = ExportSettings(pick, run, out, choice, precisions, formats)
    print_export(export(Path(out), settings, Context(accelerator)))


def print_export(s: dict[str, Any]) -> None:
    """The lines of an export stage's summary (export.json)."""
    from archc.runtime.profile.proxy import latency_text

    console.print(f"{s['pick']}: {s['canonical']}")
    ms = s["objectives"]["latency_ms"]
    console.print(f"  PSNR drop {s['objectives']['psnr_drop']:.3f} dB, latency "
                  + ("not predicted" if ms is None else latency_text(ms, s)))
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
    if "qdq" in s:
        console.print(f"wrote {s['qdq']['path']} ({s['qdq']['quantized_nodes']} quantized nodes, calibrated on "
                      f"{s['qdq']['calibration']})")
