"""`archc pretrained` and `--weights pretrained:NAME` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archc.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def test_nafnet_small_ships() -> None:
    from archc.compiler.pretrained import available

    assert "nafnet_small" in [p.name for p in available()]


def test_the_listing_names_each_teacher_with_its_scores() -> None:
    result = invoke("pretrained", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    small = rows["nafnet_small"]
    assert small["weights"] == "pretrained:nafnet_small" and Path(small["file"]).is_file()
    assert small["gain_db"] == small["psnr"] - small["input_psnr"]
    table = invoke("pretrained")
    assert table.exit_code == 0 and "pretrained:nafnet_small" in table.stdout


def test_a_name_shows_its_model_card() -> None:
    result = invoke("pretrained", "nafnet_small")
    assert result.exit_code == 0
    assert "Model card" in result.stdout and "Reproduce" in result.stdout and "archc train" in result.stdout


def test_write_spec_writes_the_spec_the_weights_fit(tmp_path: Path) -> None:
    out = tmp_path / "small.arch"
    assert invoke("pretrained", "nafnet_small", "--write-spec", str(out)).exit_code == 0
    assert out.read_text() == (ROOT / "specs/nafnet_small.arch").read_text()


def test_an_unknown_name_exits_1_without_a_traceback() -> None:
    for args in (("pretrained", "nafnet_smal"),
                 ("compile", "specs/nafnet_small.arch", "--weights", "pretrained:nafnet_smal")):
        result = invoke(*args)
        assert result.exit_code == 1
        assert "E0405" in result.stderr and "did you mean `pretrained:nafnet_small`" in result.stderr
        assert "Traceback" not in result.output


def test_commands_take_a_reference_as_weights(tmp_path: Path) -> None:
    result = invoke("compile", str(ROOT / "specs/nafnet_small.arch"), "--weights", "pretrained:nafnet_small",
                    "--emit", "onnx", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nafnet_small.onnx").is_file()
