"""The macro operations' kinds are listed once (dsl/macro.py's KINDS): the grammar's keywords, the
checks' defaults and the lowering all follow that table."""

from __future__ import annotations

import pytest

import archc
from archc.dsl.grammar import MACRO_MARK, core_text
from archc.dsl.macro import KINDS, NO_CONV, grammar_rules
from archc.errors import SpecSyntaxError

STAGES = "encoder e1: naf\n middle m: naf\n decoder d1: naf"


def _spec(setting: str) -> str:
    return f"arch forms {{\n width 8\n {setting}\n {STAGES}\n}}\n"


def test_the_grammar_lists_the_kinds_of_the_table() -> None:
    text = core_text()
    assert MACRO_MARK not in text and grammar_rules() in text
    assert '!down: "down" ("conv2x2" | "conv3x3_unshuffle" | "conv4x4" | "conv3x3") args{op_param}?' in text
    assert '!pad: "pad" ("auto" | "none")\n' in text


@pytest.mark.parametrize(("setting", "kind"), [(s, k) for s in ("down", "up", "residual", "pad") for k in KINDS[s]])
def test_every_kind_of_the_table_parses(setting: str, kind: str) -> None:
    spec = archc.parse(_spec(f"{setting} {kind}"))
    op = spec.ops.pad if setting == "pad" else getattr(spec.ops, setting)
    assert (op if isinstance(op, str) else op.kind) == kind


def test_a_kind_not_in_the_table_is_a_syntax_error() -> None:
    with pytest.raises(SpecSyntaxError):
        archc.parse(_spec("down conv5x5"))


def test_the_kinds_without_a_convolution_are_those_without_a_default_bias() -> None:
    assert {"add", "concat", "global", "none", "auto"} == NO_CONV
    assert all((kind in NO_CONV) == (k.kernel == 0) for kinds in KINDS.values() for kind, k in kinds.items())
