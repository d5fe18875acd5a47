"""`archc profile`: a spec's block table on a device, one network predicted vs profiled, or the
table validated on random networks. Writes RUN/latency.json (see archc.runtime.profile.record)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from rich.table import Table

from archc.runtime.profile.measure import Protocol

from .options import cluster_option, context
from .output import console, print_json


def parse_options(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"`{item}` is not KEY=VALUE", param_hint="--device-option")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _ms(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.1f}"


def block_table(data: dict[str, Any]) -> Table:
    label = data["label"]
    h, w = data["input_size"]
    table = Table(title=f"{data['arch']} on {data['device']['name']} ({label}), input {h}x{w}", title_justify="left")
    for col, justify in (
        ("slot", "left"),
        ("level", "right"),
        ("feature", "right"),
        ("candidate", "left"),
        (f"ms ({label})", "right"),
        ("vs original", "right"),
        ("IQR ms", "right"),
        ("runs", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    original: dict[str, float] = {}
    last = None
    for row in data["blocks"]:
        if last is not None and row["slot"] != last:
            table.add_section()
        last = row["slot"]
        fig = data["measurements"][row["key"]]
        if row["index"] == 0:
            original[row["slot"]] = row["net_ms"]
        delta = row["net_ms"] - original.get(row["slot"], row["net_ms"])
        iqr = None if fig.get("iqr_ms") is None else fig["iqr_ms"] * row["count"]
        table.add_row(
            row["slot"],
            str(row["level"]),
            "x".join(map(str, row["feature"])),
            row["candidate"] + (f" x{row['count']}" if row["count"] > 1 else ""),
            _ms(row["latency_ms"]),
            "original" if row["index"] == 0 else f"{delta:+.3f}",
            _ms(iqr),
            str(fig.get("repeats") or "-"),
        )
    return table


def protocol_line(data: dict[str, Any]) -> str:
    p = data["protocol"]
    if data["label"] == "modelled":
        return f"modelled by {p.get('model_file')} ({p.get('precision')}); resolution: {p.get('resolution_assumed')}"
    if "min_repeats" not in p:
        return f"{data['label']} with {p.get('runtime', data['device']['name'])}"
    versions = ", ".join(f"{k} {p[k]}" for k in ("onnxruntime", "torch") if k in p)
    return (
        f"protocol: {p['threads']} thread(s), {p.get('clock', 'wall')} clock, {p['warmup']} warm-up runs, "
        f">= {p['min_repeats']} timed runs until the median settles (cap {p['time_cap_s']:g} s); "
        f"{versions}; {p['machine']['cpu']}"
    )


def summary_lines(data: dict[str, Any]) -> list[str]:
    label = data["label"]
    base, fixed, corr = data["baseline"], data["fixed"], data["correction"]
    lines = [
        protocol_line(data),
        f"fixed part (every slot removed): {_ms(fixed['latency_ms'])} ms {label}",
        f"baseline network: {_ms(base['latency_ms'])} ms {label}; fixed + blocks = "
        f"{_ms(base['latency_ms'] - corr['overhead_ms'])} ms; {_correction_text(corr)}",
    ]
    fit = data.get("fit") or []
    if fit:
        ratios = ", ".join(f"{(r['measured_ms'] - fixed['latency_ms']) / r['block_sum_ms']:.2f}" for r in fit
                           if r["block_sum_ms"] > 0)
        lines.append(f"scale fitted on {len(fit)} more networks {label} end to end (each one's ratio: {ratios})")
    swaps = data.get("swaps") or {}
    if "baseline_median_ms" in swaps:
        times = swaps["baseline_ms"]
        lines.append(
            f"{len(swaps['rows'])} single-slot swaps {label} in the network, each beside the baseline; predictions "
            f"start from the baseline's median {_ms(swaps['baseline_median_ms'])} ms over its {len(times)} timings "
            f"({_ms(min(times))}-{_ms(max(times))} ms)"
        )
    for net in data["networks"]:
        if net["source"] == "--choice":
            lines.append(
                f"network {net['choice']}: predicted {_ms(net['predicted_ms'])} ms, "
                f"{label} {_ms(net['measured_ms'])} ms ({net['error_pct']:+.1f} %)"
            )
    v = data.get("validation")
    if v and v.get("n"):
        tau = v.get("kendall_tau")
        lines.append(
            f"validation on {v['n']} random networks ({label}): {100 * v['within_10pct']:.0f} % within "
            f"+-10 %, RMSPE {v['rmspe_pct']:.1f} %, max {v['max_abs_error_pct']:.1f} %"
            + (f", Kendall tau {tau:.2f}" if tau is not None else "")
        )
        for other in ("uncorrected", "additive", "proportional", "baseline_scaled", "swaps"):
            u = v.get(other)
            if u and other != v.get("correction"):
                lines.append(
                    f"  {OTHER[other]}: {100 * u['within_10pct']:.0f} % within +-10 %, RMSPE {u['rmspe_pct']:.1f} %"
                )
    return lines


OTHER = {
    "uncorrected": "without a correction",
    "additive": "with the difference added as a constant",
    "proportional": "with the blocks scaled",
    "baseline_scaled": "with the blocks scaled by the baseline alone",
    "swaps": "from the in-network swaps",
}


def _correction_text(corr: dict[str, Any]) -> str:
    if corr.get("kind") == "swaps":
        return "predictions add each changed slot's in-network delta to the baseline (--swaps)"
    if corr.get("kind", "additive") == "additive":
        return f"correction {corr['overhead_ms']:+.3f} ms (added to every prediction)"
    fitted = int(corr.get("fitted_on", 1))
    if fitted > 1:
        median = f"the median over the baseline and {fitted - 1} more networks"
        return f"every block sum scaled by {corr['scale']:.3f} ({median})"
    spread = f"the baseline's {corr['overhead_ms']:+.3f} ms spread over its blocks"
    return f"every block sum scaled by {corr['scale']:.3f} ({spread})"


@click.command("profile")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--device",
    "device",
    default="cpu",
    show_default=True,
    help="Device name (`archc devices` lists them): cpu, torch-cpu, s24, adb:SERIAL, qai-hub:NAME, ...",
)
@click.option(
    "--size", nargs=2, type=int, default=None, help="Input H W (default: the device's stated resolution, else 256 256)."
)
@click.option("--out", "out", type=click.Path(file_okay=False), help="Run folder for latency.json.")
@click.option(
    "--choice",
    "choices",
    multiple=True,
    help="Also predict and profile this network (SLOT=BLOCK, repeatable or `a=x;b=y`).",
)
@click.option(
    "--validate",
    "validate_n",
    type=click.IntRange(0),
    default=0,
    help="Predict and profile N random networks; report share within +-10 % and RMSPE.",
)
@click.option(
    "--fit",
    "fit_n",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Time N more networks end to end and fit the block sums' scale on them and the baseline "
    "(median ratio; 0: the baseline alone). --validate never draws them.",
)
@click.option(
    "--swaps",
    is_flag=True,
    help="Time every single-slot swap of the baseline end to end and predict with those in-network deltas "
    "(one network per candidate; for runtimes whose blocks cost differently alone, e.g. executorch-cpu).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --fit and --validate draws.")
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True, help="Intra-op threads.")
@click.option("--warmup", type=click.IntRange(0), default=3, show_default=True, help="Untimed runs first.")
@click.option("--repeats", type=click.IntRange(1), default=10, show_default=True, help="Minimum timed runs.")
@click.option("--max-repeats", type=click.IntRange(1), default=200, show_default=True,
              help="Most timed runs per workload.")
@click.option(
    "--time-cap",
    type=click.FloatRange(min=0.001),
    default=20.0,
    show_default=True,
    help="Seconds of timed runs per workload before stopping (after --repeats).",
)
@click.option(
    "--clock",
    type=click.Choice(("wall", "cpu")),
    default="wall",
    show_default=True,
    help="Time runs by elapsed time, or by this process's CPU time (1 thread; for a machine shared with other jobs).",
)
@click.option(
    "--device-option",
    "device_options",
    multiple=True,
    help="KEY=VALUE for remote devices (adb: perf_test, ep, runs; qai-hub: options).",
)
@click.option("--devices-dir", type=click.Path(file_okay=False), help="Extra folder of device files.")
@click.option("--resume", is_flag=True, help="Reuse figures of an earlier run in --out (same device and size).")
@click.option("--json", "as_json", is_flag=True, help="Print latency.json instead of tables.")
@cluster_option
@click.option("--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Local processes for modelled or hosted devices (timings on this machine run one at a time).")
def profile_cmd(spec: str, device: str, size: tuple[int, int] | None, out: str | None, choices: Sequence[str],
                validate_n: int, fit_n: int, swaps: bool, seed: int, threads: int, warmup: int, repeats: int,
                max_repeats: int, time_cap: float, clock: str, device_options: Sequence[str],
                devices_dir: str | None, resume: bool, as_json: bool, cluster: str, jobs: int) -> None:
    """Profile every (slot, candidate) block of SPEC, the fixed rest and the baseline on a device."""
    from archc.runtime.pipeline import ProfileSettings, profile

    try:
        protocol = Protocol(threads=threads, warmup=warmup, min_repeats=repeats,
                            max_repeats=max(repeats, max_repeats), time_cap_s=time_cap, clock=clock)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    settings = ProfileSettings(spec, device, tuple(size) if size else None, out,  # type: ignore[arg-type]
                               ";".join(choices) if choices else None, validate_n, seed, protocol,
                               parse_options(device_options), devices_dir, resume, jobs, fit_n, swaps)
    with context(cluster=cluster, jobs=jobs) as ctx:
        record = profile(None, settings, ctx)
    if as_json:
        print_json(record.data)
    else:
        print_profile(record)


def print_profile(record: Any) -> None:
    """The block table and summary lines of a profile stage's record."""
    console.print(block_table(record.data))
    for line in summary_lines(record.data):
        console.print(line)
    if record.path is not None:
        console.print(f"wrote {record.path}")
