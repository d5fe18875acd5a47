"""The composed grammar: shipped fragments compose, no anonymous terminal, plugins extend it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import torch

import archc
from archc import ArchError
from archc.api import load_grammar
from archc.compiler.blocks import BlockDef, all_blocks, load_plugins, register_block, unregister
from archc.dsl.grammar import compose
from archc.errors import RegistryError

SHIPPED = {name: b for name, b in all_blocks().items() if b.origin == "archc"}


@attrs.frozen
class FakeSchema:
    name: str
    fragment: Path
    params: type = attrs.make_class("NoParams", [])


def test_all_shipped_fragments_compose() -> None:
    g = compose(SHIPPED.values())
    assert set(g.blocks) == set(SHIPPED)
    assert g.parser.options.parser == "lalr"
    assert g.parser.options.strict


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_fragment_composes_alone(name: str) -> None:
    g = compose([SHIPPED[name]])
    assert g.blocks == (name,)
    assert g.parser.parse(name, start="block")


def test_no_terminal_is_anonymous() -> None:
    names = [t.name for t in load_grammar().parser.terminals]
    assert not [n for n in names if n.startswith("__")], names


def test_every_terminal_has_a_user_facing_name() -> None:
    g = load_grammar()
    for term in g.parser.terminals:
        if term.name in ("WS", "COMMENT", "_NO_BLOCK"):
            continue
        shown = g.display[term.name]
        assert shown.startswith("`") or shown.startswith("a "), (term.name, shown)


def _fragment(tmp_path: Path, name: str, body: str) -> FakeSchema:
    path = tmp_path / f"{name}.lark"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return FakeSchema(name, path)


def test_fragment_with_a_foreign_rule_is_refused(tmp_path: Path) -> None:
    schema = _fragment(
        tmp_path,
        "zap",
        """
        zap: "zap" args{zap_param}?
        !zap_param: "power" "=" power
        power: INT
        %extend block: zap
        """,
    )
    with pytest.raises(RegistryError) as info:
        compose([*SHIPPED.values(), schema])
    assert "defines rule `power`" in info.value.render()
    assert "`zap` or `zap_...`" in info.value.render()


def test_fragment_that_does_not_extend_block_is_refused(tmp_path: Path) -> None:
    schema = _fragment(tmp_path, "zap", 'zap: "zap"\n')
    with pytest.raises(RegistryError, match="does not extend the block rule"):
        compose([schema])


def test_fragments_with_clashing_keywords_do_not_compose(tmp_path: Path) -> None:
    schema = _fragment(tmp_path, "zap", 'zap: "naf"\n%extend block: zap\n')
    with pytest.raises(RegistryError, match="do not compose") as info:
        compose([*SHIPPED.values(), schema])
    text = info.value.render()
    assert "blocks `naf` and `zap`" in text
    assert "Collision" not in text and "Terminal(" not in text


def test_duplicate_block_name_raises() -> None:
    naf = SHIPPED["naf"]
    with pytest.raises(RegistryError, match="registered twice"):
        register_block("naf", params=naf.params, build=naf.build, macs=naf.macs, origin="a test")
    assert all_blocks()["naf"] is naf


# ------------------------------------------------------------------ a plugin from outside the package

PLUGIN_PY = '''
"""A test plugin: x + conv1x1(x) * gain."""
from pathlib import Path

from attrs import field, frozen
from torch import nn

from archc.dsl.params import int_range
from archc.runtime.blocks import register_block


@frozen
class PgainParams:
    gain: int = field(default=1, validator=int_range(1, 4))


class Pgain(nn.Module):
    def __init__(self, c, p):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 1)
        self.gain = p.gain

    def forward(self, x):
        return x + self.conv(x) * self.gain


register_block(
    "pgain", params=PgainParams, build=lambda p, c: Pgain(c, p), macs=lambda p, c, h, w: h * w * c * c,
    fragment=Path(__file__).with_name("pgain.lark"), summary="a test plugin", origin="tests",
)
'''

PLUGIN_LARK = """
// pgain: a test block from outside the package.
pgain: "pgain" args{pgain_param}?
!pgain_param: "gain" "=" INT
%extend block: pgain
"""

PLUGIN_SPEC = """
arch plugged {
    width 4
    encoder enc1: pgain(gain=2)
    middle mid: naf
    decoder dec1: pgain
}
search over plugged {
    candidates *: naf | pgain(gain=3) | identity
}
"""


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "pgain.py").write_text(PLUGIN_PY, encoding="utf-8")
    (tmp_path / "pgain.lark").write_text(PLUGIN_LARK, encoding="utf-8")
    load_plugins([tmp_path / "pgain.py"])
    yield tmp_path / "pgain.py"
    unregister("pgain")


def test_plugin_block_parses_checks_and_builds(plugin: Path) -> None:
    assert isinstance(all_blocks()["pgain"], BlockDef)
    spec = archc.parse(PLUGIN_SPEC)
    assert spec.stage("enc1").block.canonical == "pgain(gain=2)"
    assert [c.canonical for c in spec.search.slot("mid").candidates] == ["naf", "pgain(gain=3)", "identity"]
    model = archc.build(spec, choice="mid=pgain(gain=3)")
    x = torch.randn(1, 3, 8, 8)
    assert model(x).shape == (1, 3, 8, 8)


def test_plugin_block_errors_speak_its_parameters(plugin: Path) -> None:
    with pytest.raises(ArchError) as info:
        archc.parse(PLUGIN_SPEC.replace("pgain(gain=2)", "pgain(gian=2)"))
    text = info.value.render()
    assert "`gian` is not a parameter of block `pgain`" in text
    assert "did you mean `gain`?" in text
    with pytest.raises(ArchError) as info:
        archc.parse(PLUGIN_SPEC.replace("pgain(gain=2)", "pgain(gain=9)"))
    assert "`gain` must be between 1 and 4, not 9" in info.value.render()


def test_plugin_block_name_is_offered_as_a_correction(plugin: Path) -> None:
    with pytest.raises(ArchError, match="unknown block `pgian`") as info:
        archc.parse(PLUGIN_SPEC.replace("middle mid: naf", "middle mid: pgian"))
    assert "did you mean `pgain`?" in info.value.render()


def test_unregistered_plugin_is_gone(tmp_path: Path) -> None:
    (tmp_path / "pgain.py").write_text(PLUGIN_PY, encoding="utf-8")
    (tmp_path / "pgain.lark").write_text(PLUGIN_LARK, encoding="utf-8")
    load_plugins([tmp_path / "pgain.py"])
    unregister("pgain")
    with pytest.raises(ArchError, match="unknown block `pgain`"):
        archc.parse(PLUGIN_SPEC)


def test_second_plugin_with_a_taken_name_raises(plugin: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "pgain.py").write_text(PLUGIN_PY, encoding="utf-8")
    (other / "pgain.lark").write_text(PLUGIN_LARK, encoding="utf-8")
    with pytest.raises(RegistryError, match="registered twice"):
        load_plugins([other / "pgain.py"])


def test_missing_plugin_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no such plugin file"):
        load_plugins([tmp_path / "nope.py"])
