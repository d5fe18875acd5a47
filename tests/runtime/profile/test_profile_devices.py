from __future__ import annotations

from pathlib import Path

import pytest

from archc.errors import ProfileError
from archc.runtime.profile.devices import listing, resolve


def test_builtins_and_alias() -> None:
    assert resolve("cpu").kind == "measured"
    assert resolve("ort-cpu").name == "ort-cpu" and resolve("ort-cpu").kind == "measured"
    assert resolve("torch-cpu").kind == "measured"
    assert resolve("s24").kind == "modelled"
    assert resolve("adb:R5CX").kind == "remote"  # nothing is contacted until a workload is profiled
    assert resolve("qai-hub:Samsung Galaxy S24 Ultra").kind == "remote"


def test_an_unknown_name_lists_the_known_ones_with_did_you_mean() -> None:
    with pytest.raises(ProfileError) as info:
        resolve("s25")
    text = info.value.render()
    assert "unknown device `s25`" in text and "did you mean `s24`" in text and "`cpu`" in text
    assert "\n" in text and "Traceback" not in text


def test_a_devices_dir_adds_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "pixel.toml").write_text('[device]\ndescription = "a phone"\n')
    (tmp_path / "s24.json").write_text('{"device": {"description": "my own s24"}}')
    names = {d.name: d for d in listing(tmp_path)}
    assert names["pixel"].kind == "modelled" and names["s24"].description == "my own s24"
    assert resolve("pixel", devices_dir=tmp_path).kind == "modelled"
    assert resolve(str(tmp_path / "pixel.toml")).name == "pixel"


def test_a_missing_devices_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such devices folder"):
        listing(tmp_path / "nope")
