"""The checked Spec: stages, levels, channels, slots, candidates, exclusions and defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc import ArchError
from archc.dsl.check import DEFAULTS
from archc.dsl.spec import Spec

SPECS = Path(__file__).resolve().parents[2] / "specs"
SEVEN = ["naf", "naf(sca=off)", "naf_relu", "naf_bn", "dsconv", "mbconv", "identity"]


@pytest.fixture(scope="module")
def gopro() -> Spec:
    return archc.parse(SPECS / "nafnet_gopro.arch")


def test_gopro_stages_levels_and_channels(gopro: Spec) -> None:
    assert gopro.name == "nafnet_gopro"
    assert (gopro.in_channels, gopro.out_channels, gopro.width) == (3, 3, 32)
    assert gopro.levels == 4
    rows = [(s.name, s.role, s.level, s.channels, s.repeat) for s in gopro.stages]
    assert rows == [
        ("enc1", "encoder", 0, 32, 1),
        ("enc2", "encoder", 1, 64, 1),
        ("enc3", "encoder", 2, 128, 1),
        ("enc4", "encoder", 3, 256, 28),
        ("mid", "middle", 4, 512, 1),
        ("dec4", "decoder", 3, 256, 1),
        ("dec3", "decoder", 2, 128, 1),
        ("dec2", "decoder", 1, 64, 1),
        ("dec1", "decoder", 0, 32, 1),
    ]
    assert {s.block.canonical for s in gopro.stages} == {"naf"}
    assert [s.index for s in gopro.by_role("decoder")] == [0, 1, 2, 3]


def test_gopro_search_space(gopro: Spec) -> None:
    search = gopro.search
    assert search is not None
    assert [s.name for s in search.slots] == ["enc1", "enc2", "enc3", "mid", "dec4", "dec3", "dec2", "dec1"]
    for slot in search.slots:
        assert [c.canonical for c in slot.candidates] == SEVEN, slot.name
        assert slot.candidates[0] == slot.original
        assert (slot.start, slot.stop) == (0, 1)
    [enc4] = search.fixed
    assert (enc4.name, enc4.start, enc4.stop, enc4.count) == ("enc4", 0, 28, 28)
    assert search.slot("enc4") is enc4
    assert search.saliency_rules == () and search.budget is None


def test_mbconv_expand_4_is_its_default(gopro: Spec) -> None:
    mbconv = gopro.search.slot("enc1").candidates[SEVEN.index("mbconv")]
    assert mbconv.params.expand == 4


def test_sliced_slots() -> None:
    text = (SPECS / "nafnet_gopro.arch").read_text(encoding="utf-8")
    text = text.replace("    exclude enc4\n", "    slots enc1, enc4[0:14], enc4[14:28], dec1\n")
    spec = archc.parse(text)
    rows = [(s.name, s.stage, s.start, s.stop, s.count) for s in spec.search.slots]
    assert rows == [
        ("enc1", "enc1", 0, 1, 1),
        ("enc4[0:14]", "enc4", 0, 14, 14),
        ("enc4[14:28]", "enc4", 14, 28, 14),
        ("dec1", "dec1", 0, 1, 1),
    ]
    assert all(len(s.candidates) == 7 for s in spec.search.slots)


MINIMAL = """
arch small {
    encoder e1: naf
    middle m: naf
    decoder d1: naf
}
"""


def test_defaults_when_settings_are_omitted() -> None:
    spec = archc.parse(MINIMAL)
    got = {k: getattr(spec, k) for k in ("width", "stem", "head", "down", "up", "skip", "residual")}
    assert got == {k: v[0] for k, v in DEFAULTS.items() if k != "channels"}
    assert (spec.in_channels, spec.out_channels) == DEFAULTS["channels"]
    assert spec.search is None
    params = spec.stage("e1").block.params
    assert (params.dw_expand, params.ffn_expand, params.sca) == (2, 2, True)
    assert [s.repeat for s in spec.stages] == [1, 1, 1]


def test_explicit_settings_equal_to_defaults_give_an_equal_spec() -> None:
    settings = "channels in 3 out 3; width 32; stem conv3x3; head conv3x3; down conv2x2; up pixelshuffle; skip add"
    explicit = MINIMAL.replace("{\n", "{\n    " + settings + "; residual global\n", 1)
    assert archc.parse(explicit) == archc.parse(MINIMAL)
    assert archc.parse(MINIMAL.replace("naf\n", "naf(dw_expand=2, sca=on) x1\n", 1)) == archc.parse(MINIMAL)


def test_candidates_per_slot_override_the_star_and_exclusions_apply() -> None:
    spec = archc.parse(
        MINIMAL
        + """
search over small {
    candidates *: naf | dsconv | identity
    candidates m: mbconv(expand=2) | naf
    exclude d1: identity
    exclude top 1 by snip
    budget 50
}
"""
    )
    search = spec.search
    assert [c.canonical for c in search.slot("e1").candidates] == ["naf", "dsconv", "identity"]
    # the original block always comes first, even when listed later
    assert [c.canonical for c in search.slot("m").candidates] == ["naf", "mbconv(expand=2)"]
    assert [c.canonical for c in search.slot("d1").candidates] == ["naf", "dsconv"]
    assert search.slot("d1").excluded == ("identity",)
    [rule] = search.saliency_rules
    assert (rule.k, rule.metric) == (1, "snip")
    assert search.budget == 50


def test_parse_block_returns_a_checked_block() -> None:
    block = archc.parse_block("naf(sca=off)")
    assert block.canonical == "naf(sca=off)"
    assert block.params.sca is False
    with pytest.raises(ArchError) as info:
        archc.parse_block("naf(dw_expand=5)")
    assert "`dw_expand` must be even" in info.value.render()
    with pytest.raises(ArchError, match="unknown block"):
        archc.parse_block("nafx")


def test_spans_point_into_the_file(gopro: Spec) -> None:
    lines = gopro.text.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip().startswith("encoder enc4:"))
    enc4 = gopro.stage("enc4")
    assert enc4.span is not None and (enc4.span.line, enc4.span.column) == (line, 5)
    assert gopro.search.slot("enc4").span == enc4.span


def test_a_bad_block_does_not_hide_its_stage_from_the_search() -> None:
    """The stage with bad parameters is reported once; the search still finds its slot."""
    with pytest.raises(ArchError) as info:
        archc.parse(
            MINIMAL.replace("encoder e1: naf", "encoder e1: naf(dw_expand=3)") + "search over small {\n"
            "    slots e1, m\n    candidates e1, m: naf | dsconv\n}\n"
        )
    assert [d.code for d in info.value.diagnostics] == ["E0233"]


PRECISION_NET = """
arch a { encoder e1: naf; encoder e2: naf; middle m: naf; decoder d2: naf; decoder d1: naf }
search over a {
    candidates *: naf | dsconv
    exclude e2
    %s
}
"""


def test_precision_lines_star_and_per_slot_override() -> None:
    spec = archc.parse(PRECISION_NET % "precision *: w8a8 | w8a16\n    precision m: w8a16 | fp16")
    assert spec.search is not None and spec.search.has_precision
    got = {s.name: s.precisions for s in spec.search.slots}
    assert got == {"e1": ("fp16", "w8a8", "w8a16"), "m": ("fp16", "w8a16"), "d2": ("fp16", "w8a8", "w8a16"),
                   "d1": ("fp16", "w8a8", "w8a16")}
    assert [s.precisions for s in spec.search.fixed] == [()]  # an excluded slot keeps its block, in fp16
    only_m = archc.parse(PRECISION_NET % "precision m: w8a8")
    assert only_m.search is not None
    assert {s.name: s.precisions for s in only_m.search.slots}["e1"] == ("fp16",)


def test_without_a_precision_line_a_spec_means_what_it_meant() -> None:
    plain = archc.parse(PRECISION_NET % "")
    assert plain.search is not None and not plain.search.has_precision
    assert all(s.precisions == () for s in plain.search.slots)
    assert plain == archc.parse(PRECISION_NET % "# no precision")
