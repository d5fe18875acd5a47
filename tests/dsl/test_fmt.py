"""The formatter: `parse(fmt(x)) == parse(x)`, fmt is idempotent, and comments survive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archc
from archc.api import load_grammar, parse_file
from archc.compiler.blocks import all_blocks
from archc.dsl.fmt import format_file
from archc.dsl.params import format_value

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.arch"))

EXTRA = {
    "comments_everywhere": """\
# header 1

# header 2
arch   a {  # after the brace
  # before channels
  channels in 3 out 3 ; width 8   # trailing, after two settings on one line
  encoder enc1 : naf( sca = off , dw_expand=4 ) x1 # explicit x1
  # between stages
  encoder enc2: naf x2
  middle mid: naf
      # oddly indented, before the decoders
  decoder dec2: naf; decoder dec1: dsconv(kernel=5)
  # before the closing brace
}   # after the closing brace
# between the blocks
search over a { # after the search brace
  slots enc1, enc2[0:1], enc2[1:2], mid, dec2, dec1
  candidates *: naf | identity # trailing on candidates
  candidates enc1, dec1: naf | mbconv(expand=2, act=gelu)
  exclude mid
  exclude dec2: identity
  exclude top 1 by grad_norm
  budget 10
  # last line of the search
}
# trailer, no newline at the end""",
    "one_line": "arch a { encoder e: naf; middle m: naf_bn(sca=off); decoder d: naf_relu(act=gelu) } # one line\n",
    "statement_over_lines": """\
arch a {
    encoder e: naf
    middle m: naf
    decoder d: naf
}
search over a {
    candidates *: naf |   # the comment sits inside the statement
        dsconv(act=hardswish) |
        identity
}
""",
    "macro_forms": """arch m {
  channels in 6 out 3 ; widths 8 16 32
  stem conv3x3( bias = off , act=lrelu) head conv3x3(act=gelu)
  down conv3x3_unshuffle(bias=on) ; up transpose4x4(act=relu)
  skip concat_reduce(bias=off)  # every level
  skip level 1: concat
  residual feature(bias=off) pad none checkpoint restormer
  encoder e1: restormer(heads=2, ffn=1.5, norm=biasfree) encoder e2: naf middle m: restormer(ffn=2, bias=on) x2
  decoder d2: naf decoder d1: dsconv
  refine r: restormer x2  # after the decoders
}
""",
    "precision": """\
arch a { encoder e: naf; middle m: naf; decoder d: naf }
search over a {
  candidates *: naf | dsconv
  precision *:w8a8|w8a16   # every slot
  precision m : w8a16 ; budget 5
}
""",
    "crlf": "arch a {\r\n    # windows\r\n    encoder e: naf\r\n    middle m: naf\r\n    decoder d: naf\r\n}\r\n",
    "tabs": "arch a {\n\tresidual none\n\tchannels in 1 out 4\n\tencoder e: mbconv(kernel=7, expand=6)\n"
    "\tmiddle m: identity\n\tdecoder d: naf x3\t# tab before\n}\n",
}


def _comments(text: str) -> list[str]:
    file, _ = parse_file(text)
    return sorted(c.text.rstrip() for c in file.comments)


def check_round_trip(text: str) -> None:
    file, _ = parse_file(text)
    out = format_file(file)
    again, _ = parse_file(out)
    assert again == file, out
    assert archc.parse(out) == archc.parse(text), out
    assert format_file(again) == out, "fmt is not idempotent"
    assert _comments(out) == _comments(text)


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_shipped_spec_round_trips(path: Path) -> None:
    file, text = parse_file(path)
    out = format_file(file)
    assert parse_file(out)[0] == file
    assert archc.parse(out) == archc.parse(path)
    assert out == text, "shipped specs are kept in canonical layout (`archc fmt --check`)"


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_extra_text_round_trips(name: str) -> None:
    check_round_trip(EXTRA[name])


def test_comments_keep_their_place() -> None:
    out = format_file(parse_file(EXTRA["comments_everywhere"])[0])
    lines = out.splitlines()
    assert lines[0] == "# header 1"
    assert "    encoder enc1: naf(sca=off, dw_expand=4)  # explicit x1" in lines
    assert lines[lines.index("    # between stages") + 1] == "    encoder enc2: naf x2"
    assert "}  # after the closing brace" in lines
    assert lines[-1] == "# trailer, no newline at the end"
    assert out.endswith("\n")


# ------------------------------------------------------------------ random specs

KEYWORDS = frozenset(
    d.strip("`") for d in load_grammar().display.values() if d.startswith("`") and d.strip("`").isidentifier()
)
NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda n: n not in KEYWORDS and not (n[0] == "x" and n[1:].isdigit())
)
SHIPPED = {name: b for name, b in all_blocks().items() if b.origin == "archc"}
WORDS = ("relu", "gelu", "hardswish", "on", "off", "withbias", "biasfree")
FITS = {b.params: b.fits for b in SHIPPED.values() if b.fits is not None}


def _valid(params_cls: type, name: str, value: object) -> bool:
    """A value the validator accepts and that lets the block run at every width a random spec has."""
    try:
        params = params_cls(**{name: value})
    except (ValueError, TypeError):
        return False
    fits = FITS.get(params_cls)
    return fits is None or all(fits(params, c) is None for c in range(1, 1025))


def _param_values(params_cls: type, f: attrs.Attribute) -> st.SearchStrategy[object]:
    """Every valid value of one parameter, found by asking its validator."""
    pool: list[object]
    if isinstance(f.default, bool):
        pool = [True, False]
    elif isinstance(f.default, int):
        pool = list(range(0, 12))
    elif isinstance(f.default, float):
        pool = [0.5, 1.0, 1.33, 2.66, 4.0]
    else:
        pool = list(WORDS)
    return st.sampled_from([v for v in pool if _valid(params_cls, f.name, v)])


@st.composite
def blocks(draw: st.DrawFn) -> str:
    """A shipped block kind with a random subset of its parameters set to random valid values."""
    kind = draw(st.sampled_from(sorted(SHIPPED)))
    params = SHIPPED[kind].params
    fields = attrs.fields(params)
    chosen = draw(st.lists(st.sampled_from(fields), unique_by=lambda f: f.name)) if fields else []
    if not chosen:
        return kind
    eq = draw(st.sampled_from(["=", " = "]))
    args = [f"{f.name}{eq}{format_value(draw(_param_values(params, f)))}" for f in chosen]
    return f"{kind}({', '.join(args)})"


def _canonical_of(block: str) -> str:
    return archc.parse_block(block).canonical


@st.composite
def specs(draw: st.DrawFn) -> str:
    levels = draw(st.integers(1, 4))
    names = draw(st.lists(NAMES, min_size=2 * levels + 2, max_size=2 * levels + 2, unique=True))
    arch, stage_names = names[0], names[1:]
    comment = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12).map(lambda t: "#" + t)
    sep = st.sampled_from(["\n", "\n\n", "; ", " ;\n", "\n  "])

    def maybe_comment() -> str:
        return draw(st.sampled_from(["", "", " " + draw(comment)]))

    def end(line: str) -> str:  # a comment runs to the end of its line
        note = maybe_comment()
        return line + (note + "\n" if note else draw(sep))

    cin = draw(st.integers(1, 4))
    cout = draw(st.sampled_from([cin, draw(st.integers(1, 4))]))
    residual = "none" if cin != cout else draw(st.sampled_from(["global", "none"]))
    settings = [
        f"channels in {cin} out {cout}",
        f"residual {residual}",
        f"width {draw(st.integers(1, 64))}",
        "stem conv3x3",
    ]
    lines = draw(st.permutations(settings))[: draw(st.integers(0, 4))]
    lines += [s for s in settings[:2] if cin != cout and s not in lines]  # omitted, they would be (3, 3) and global
    roles = ["encoder"] * levels + ["middle"] + ["decoder"] * levels
    repeats = {}
    for role, name in zip(roles, stage_names, strict=True):
        repeats[name] = draw(st.integers(1, 6))
        rep = f" x{repeats[name]}" if repeats[name] > 1 or draw(st.booleans()) else ""
        lines.append(f"{role} {name}: {draw(blocks())}{rep}")
    body = "".join(end(line) for line in lines)
    text = draw(st.sampled_from(["", draw(comment) + "\n"])) + f"arch {arch} {{{maybe_comment()}\n{body}}}\n"
    if draw(st.booleans()):
        text += _search(draw, arch, stage_names, repeats, maybe_comment)
    return text


def _search(
    draw: st.DrawFn, arch: str, stage_names: list[str], repeats: dict[str, int], maybe_comment: Callable[[], str]
) -> str:
    """A valid search block: slices, per-slot or `*` candidates, exclusions, budget, comments."""
    slots = draw(st.lists(st.sampled_from(stage_names), min_size=1, unique=True))
    refs = []
    for name in slots:
        cut = draw(st.integers(0, repeats[name] - 1))
        refs += [f"{name}[0:{cut}]", f"{name}[{cut}:{repeats[name]}]"] if cut else [name]
    candidates = st.lists(blocks(), min_size=1, max_size=4, unique_by=_canonical_of).map(" | ".join)
    items = [f"slots {', '.join(refs)}"]
    if draw(st.booleans()):
        items.append(f"candidates *: {draw(candidates)}")
    else:
        items += [f"candidates {ref}: {draw(candidates)}" for ref in refs]
    if len(refs) > 2 and draw(st.booleans()):
        items.append(f"exclude {refs[0]}")
    if len(refs) > 3:
        items.append(f"exclude top 1 by {draw(st.sampled_from(['snip', 'grad_norm', 'synflow']))}")
    if draw(st.booleans()):
        items.append(f"budget {draw(st.integers(1, 1000))}")
    items = draw(st.permutations(items))
    body = "".join(f"    {item}{maybe_comment()}\n" for item in items)
    return f"search over {arch} {{{maybe_comment()}\n{body}}}\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_random_specs_round_trip(text: str) -> None:
    check_round_trip(text)
