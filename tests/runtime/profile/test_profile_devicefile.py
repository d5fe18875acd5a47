from __future__ import annotations

from pathlib import Path

import pytest

from archc.errors import ProfileError
from archc.runtime.profile import devicefile
from archc.runtime.profile.devices import load_model

GOOD = """[device]
name = "mine"
description = "a test device"

[compute]
dense_macs_per_s = 1e12

[memory]
channel_granule = 8

[penalty.layernorm]
per_element_s = 1e-10
"""


def _write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _error(path: Path) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        devicefile.load(path)
    return info.value


def test_a_good_file_loads_with_defaults_for_the_rest(tmp_path: Path) -> None:
    m = devicefile.load(_write(tmp_path, GOOD))
    assert (m.name, m.dense_macs_per_s, m.channel_granule) == ("mine", 1e12, 8)
    assert m.penalty("layernorm").per_element_s == 1e-10
    assert m.penalty("split").per_op_s == 0.0


def test_a_misspelt_key_points_at_its_line_with_did_you_mean(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, GOOD.replace("dense_macs_per_s", "dense_mac_per_s")))
    text = err.render()
    assert "[compute] dense_mac_per_s is not a known key" in text
    assert "mine.toml:6:1" in text and "did you mean `dense_macs_per_s`" in text
    assert err.diagnostics[0].code == "E0803"


def test_a_bad_value_points_at_its_key(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, GOOD.replace("channel_granule = 8", 'channel_granule = "eight"')))
    assert "[memory] channel_granule must be a whole number" in err.render()
    assert err.diagnostics[0].span is not None and err.diagnostics[0].span.line == 9


def test_an_unknown_penalty_and_table(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, GOOD.replace("penalty.layernorm", "penalty.layer_norm")))
    assert "did you mean `[penalty.layernorm]`" in err.render()
    err = _error(_write(tmp_path, GOOD.replace("[memory]", "[memroy]")))
    assert "[memroy] is not a known table" in err.render() and "did you mean `[memory]`" in err.render()


def test_broken_syntax_is_reported_with_its_line(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, GOOD.replace("dense_macs_per_s = 1e12", "dense_macs_per_s = ")))
    assert err.diagnostics[0].code == "E0802" and "not valid TOML" in err.render()
    err = _error(_write(tmp_path, '{"compute": {"dense_macs_per_s": -1}}', "bad.json"))
    assert "[compute] dense_macs_per_s must be a positive number" in err.render() and "bad.json:1" in err.render()


def test_save_and_load_round_trip_in_toml_and_json(tmp_path: Path) -> None:
    s24 = load_model("s24")
    for name in ("copy.toml", "copy.json"):
        devicefile.save(s24, tmp_path / name, "a header")
        back = devicefile.load(tmp_path / name)
        assert back == s24
        assert back.calibration == s24.calibration
