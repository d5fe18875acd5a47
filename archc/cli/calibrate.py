"""`archc calibrate`: fit a modelled device's coefficients to measured latencies."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from archc.runtime.profile import calibrate as cal
from archc.runtime.profile.devices import load_model
from archc.runtime.profile.fit import ALL, DEFAULT_FIT

from .output import console, print_json


def _coefficients(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_FIT
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in ALL]
    if bad:
        raise click.BadParameter(
            f"unknown coefficient(s) {', '.join(bad)}; known: {', '.join(ALL)}", param_hint="--fit"
        )
    return names


def _fit_line(name: str, rep: dict[str, Any] | None) -> str:
    if not rep or not rep.get("n"):
        return f"{name}: none"
    return (
        f"{name}: {rep['n']} workloads, {100 * rep['within_10pct']:.0f} % within +-10 %, RMSPE "
        f"{rep['rmspe_pct']:.1f} %, median |error| {rep['median_abs_error_pct']:.1f} %"
    )


def _rows(rep: dict[str, Any]) -> Table:
    table = Table(title="held-out workloads (modelled vs measured)", title_justify="left")
    for col, justify in (
        ("workload", "left"),
        ("modelled ms", "right"),
        ("measured ms", "right"),
        ("error %", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rep["rows"]:
        table.add_row(r["name"], f"{r['predicted_ms']:.3f}", f"{r['measured_ms']:.3f}", f"{r['error_pct']:+.1f}")
    return table


@click.command("calibrate")
@click.option("--device", "device", required=True, help="Modelled device to start from (name or device file).")
@click.option(
    "--measurements",
    type=click.Path(dir_okay=False, exists=True),
    required=True,
    help="Measurements JSON, or an `archc profile` latency.json.",
)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), required=True, help="Device file to write (.toml/.json)."
)
@click.option("--name", "new_name", help="Name of the fitted device (default: the file name).")
@click.option(
    "--holdout",
    type=click.FloatRange(0.0, 0.9),
    default=0.25,
    show_default=True,
    help="Share of measurements held out to test the fit.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --holdout split.")
@click.option(
    "--fit", "fit_names", help="Comma-separated coefficients to fit (default: throughputs, bandwidth, fixed costs)."
)
@click.option("--devices-dir", type=click.Path(file_okay=False), help="Extra folder of device files.")
@click.option("--json", "as_json", is_flag=True, help="Print the fit report as JSON.")
def calibrate_cmd(
    device: str,
    measurements: str,
    out: str,
    new_name: str | None,
    holdout: float,
    seed: int,
    fit_names: str | None,
    devices_dir: str | None,
    as_json: bool,
) -> None:
    """Fit a device model to measured latencies (least squares) and write its device file."""
    from pathlib import Path

    start = load_model(device, devices_dir)
    entries = cal.load_measurements(measurements)
    name = new_name or Path(out).stem
    model, rep = cal.calibrate(start, entries, _coefficients(fit_names), holdout, seed, name, measurements)
    cal.write(model, out)
    if as_json:
        print_json({"device": name, "out": out, **{k: v for k, v in rep.items()}})
        return
    console.print(_fit_line(f"{start.name} before fitting", rep["start"]))
    console.print(_fit_line("fit (train)", rep["train"]))
    console.print(_fit_line("fit (held out)", rep["test"]))
    if rep["test"]:
        console.print(_rows(rep["test"]))
    console.print(f"wrote {out} (modelled device `{name}`)")
