"""`archc saliency` and `archc explain` end to end on a tiny generated dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import archc
from archc.cli import _Group
from archc.cli.explain import explain_cmd
from archc.cli.saliency import saliency_cmd
from archc.compiler.weights import save_safetensors

from saliency_nets import SEARCHED, gopro_folder, randomised


def _cli() -> click.Group:
    group = _Group("archc")
    group.add_command(saliency_cmd)
    group.add_command(explain_cmd)
    return group


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(_cli(), [str(a) for a in args], terminal_width=200)


def _saliency(setup: dict[str, Path], weights: str, out: Path, *extra: str) -> Result:
    """`archc saliency` of the searched spec with `root/<weights>.safetensors` on the generated data."""
    return _run("saliency", setup["spec"], "--weights", setup["root"] / f"{weights}.safetensors",
                "--data", setup["data"], "--out", out, *extra)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("saliency_cli")
    spec_path = root / "searched.arch"
    spec_path.write_text(SEARCHED)
    spec = archc.parse(spec_path)
    save_safetensors(randomised(spec), root / "trained.safetensors")
    save_safetensors(archc.build(spec), root / "untrained.safetensors")
    return {"root": root, "spec": spec_path, "data": gopro_folder(root / "data", train=3, test=3, size=24)}


@pytest.fixture(scope="module")
def run(setup: dict[str, Path]) -> tuple[Path, Result]:
    out = setup["root"] / "run"
    result = _saliency(
        setup,
        "trained",
        out,
        "--batches",
        "2",
        "--batch",
        "2",
        "--crop",
        "16",
        "--ablate",
        "--val-images",
        "3",
        "--val-crop",
        "16",
    )
    return out, result


def test_saliency_writes_json_png_and_a_table(run: tuple[Path, Result]) -> None:
    out, result = run
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "saliency.json").read_text())
    assert doc["format"] == "archc.saliency/1" and doc["spec"]["name"] == "searched"
    assert list(doc["metrics"]) == ["grad_norm", "snip", "grasp", "fisher", "synflow", "taylor"]
    assert len(doc["blocks"]) == 6 and len(doc["slots"]) == 6
    assert all("drop" in s for s in doc["slots"])
    assert set(doc["ablation"]["spearman"]["slots"]) == {*doc["metrics"], "params", "macs"}
    assert (out / "saliency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "slots (sum)" in result.output and "Spearman" in result.output


def test_explain_resolves_the_rule_from_the_run(setup: dict[str, Path], run: tuple[Path, Result]) -> None:
    out, _ = run
    doc = json.loads((out / "saliency.json").read_text())
    searchable = [s for s in doc["slots"] if s["searchable"]]
    top = sorted(searchable, key=lambda s: -s["scores"]["snip"]["sum"])[:2]
    result = _run("explain", setup["spec"], "--saliency", out, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["saliency_exclusions"] == [s["name"] for s in top]
    assert data["static_exclusions"] == ["d2"] and data["size"] == 3**3 and not data["unresolved"]
    text = _run("explain", setup["spec"], "--saliency", out).output
    assert "excluded: exclude top 2 by snip" in text and "27 networks" in text


def test_explain_without_a_run_says_the_rule_is_unresolved(setup: dict[str, Path]) -> None:
    result = _run("explain", setup["spec"])
    assert result.exit_code == 0, result.output
    assert "`exclude top 2 by snip` is unresolved" in result.output
    assert "archc saliency" in result.output and "--saliency RUN" in result.output
    assert "243 networks" in result.output and "before the unresolved" in result.output


def test_untrained_weights_stop_with_one_clear_error(setup: dict[str, Path]) -> None:
    result = _saliency(
        setup,
        "untrained",
        setup["root"] / "bad",
        "--batches",
        "1",
        "--batch",
        "1",
        "--crop",
        "16",
    )
    assert result.exit_code == 1
    assert "E1001" in result.output and "untrained" in result.output and "Traceback" not in result.output
    assert not (setup["root"] / "bad" / "saliency.json").exists()


def test_a_crop_the_network_would_pad_is_refused(setup: dict[str, Path]) -> None:
    result = _saliency(setup, "trained", setup["root"] / "bad", "--crop", "18")
    assert result.exit_code == 1 and "E1002" in result.output and "multiple of 4" in result.output


def test_the_table_prints_non_finite_scores_as_such() -> None:
    from archc.cli.saliency import fmt_score

    assert fmt_score(None, "nan") == "nan" and fmt_score(None, "inf") == "inf"
    assert fmt_score(float("-inf")) == "-inf" and fmt_score(0.000123456) == "0.000123"
