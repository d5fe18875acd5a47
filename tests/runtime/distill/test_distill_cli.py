"""`archc distill` (bank + report), `archc finetune`, and `--surrogates` on `archc eval`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result

from archc.compiler.weights import read_metadata

from distill_helpers import Micro, distill_cli, run_cli

FAST_FLAGS = [
    "--iters",
    "4",
    "--batch",
    "2",
    "--crop",
    "16",
    "--crops-per-image",
    "1",
    "--fraction",
    "0.5",
    "--threads",
    "1",
]


def _distill(micro: Micro, out: Path, *extra: object) -> Result:
    """`archc distill` of the micro teacher into `out` with the fast flags."""
    return distill_cli(micro, out, *extra, *FAST_FLAGS)


def _eval_with_bank(micro: Micro, bank: Path, choice: str, *extra: object) -> Result:
    """`archc eval` of one micro test image with `choice` taken from the surrogate `bank`."""
    return run_cli("eval", micro.spec, "--weights", micro.teacher, "--surrogates", bank, "--choice", choice,
                   "--data", micro.data, "--limit", "1", *extra)


def test_distill_writes_the_bank_and_the_report(micro: Micro, tmp_path: Path) -> None:
    result = _distill(micro, tmp_path, "--slots", "enc1,dec1", "--val-images", "1")
    assert result.exit_code == 0, result.output
    assert "6 surrogates trained, 0 reused" in result.output and "plug-in drop" in result.output
    report = json.loads((tmp_path / "distill.json").read_text())
    assert report["validation"] == {"data": str(micro.data), "split": "test", "images": 1}
    rows = {f"{r['slot']}={r['candidate']}": r for r in report["surrogates"]}
    assert sorted(rows) == sorted(f"{s}={c}" for s in ("enc1", "dec1") for c in ("naf(sca=off)", "dsconv", "identity"))
    row = rows["dec1=identity"]
    assert row["plug_in_drop"] == report["teacher"]["psnr"] - row["psnr"] and row["fit_rel_change"] == 1.0
    assert set(report["mean_drop_by_candidate"]) == {"naf(sca=off)", "dsconv", "identity"}
    again = _distill(micro, tmp_path, "--slots", "enc1", "--no-report")
    assert "0 surrogates trained, 3 reused" in again.output


def test_finetune_records_spec_and_choice_and_eval_takes_surrogates(micro: Micro, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert _distill(micro, run, "--slots", "dec1", "--no-report").exit_code == 0
    bank = run / "surrogates"
    evaluated = _eval_with_bank(micro, bank, "dec1=dsconv", "--json")
    assert evaluated.exit_code == 0, evaluated.output
    missing = _eval_with_bank(micro, bank, "enc1=dsconv")
    assert missing.exit_code == 1 and "no surrogate for `enc1=dsconv`" in missing.stderr
    assert "Traceback" not in missing.output
    out = tmp_path / "ft"
    tuned = run_cli(
        "finetune",
        micro.spec,
        "--weights",
        micro.teacher,
        "--surrogates",
        bank,
        "--choice",
        "dec1=dsconv",
        "--data",
        micro.data,
        "--out",
        out,
        "--iters",
        "2",
        "--batch",
        "2",
        "--crop",
        "16",
    )
    assert tuned.exit_code == 0, tuned.output
    meta = read_metadata(out / "weights.safetensors")
    assert meta["spec"] == micro.spec.read_text() and meta["choice"] == "enc1=naf;enc2=naf;dec1=dsconv"
    reloaded = run_cli(
        "eval",
        micro.spec,
        "--weights",
        out / "weights.safetensors",
        "--choice",
        "dec1=dsconv",
        "--data",
        micro.data,
        "--limit",
        "1",
        "--json",
    )
    assert reloaded.exit_code == 0, reloaded.output


def test_json_is_all_that_goes_to_stdout(micro: Micro, tmp_path: Path) -> None:
    result = _distill(micro, tmp_path, "--slots", "enc1", "--val-images", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # the stages' progress lines went to stderr
    assert report == json.loads((tmp_path / "distill.json").read_text())
    assert "teacher" in result.stderr


def test_a_progress_line_names_each_thing_once() -> None:
    from archc.runtime.distill import Event
    from archc.runtime.pipeline.distill import _event_text

    assert _event_text(Event("step", "enc1=dsconv", 138, 300, 0.0123)) == "enc1=dsconv step 138/300, loss 0.0123"
    assert _event_text(Event("done", "enc1=dsconv", 300, 300)) == "enc1=dsconv done"
