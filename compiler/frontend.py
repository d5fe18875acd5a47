"""The compiler's front door: parse and check a spec (a path or its text) against the loaded block
kinds, and resolve a choice of blocks for its slots. Torch-free: `archc fmt`, `archc check` and
editors start from here without loading the back end."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from archc.dsl.ast import ArchDecl, Name, Run, SpecFile, StageDecl
from archc.dsl.check import check
from archc.dsl.grammar import Grammar, compose
from archc.dsl.parser import parse_block_text, parse_text, read_spec_text
from archc.dsl.spec import Block, Spec

from .blocks import all_blocks, load_plugins
from .choice import resolve_choice, split_choice_text

ChoiceLike = Mapping[str, "Block | str"] | Iterable[tuple[str, "Block | str"]] | str | None


def load_grammar() -> Grammar:
    """The parser for the core language plus every loaded block fragment (cached)."""
    return compose(all_blocks().values())


def parse_file(path_or_text: str | Path) -> tuple[SpecFile, str]:
    """Parse without semantic checks: (the syntax tree, for `fmt`; the text)."""
    path, text = read_spec_text(path_or_text)
    return parse_text(text, path, load_grammar()), text


def parse(path_or_text: str | Path, plugins: Iterable[str | Path] = ()) -> Spec:
    """Parse and check a spec given as a path or as text; raises ArchError with diagnostics."""
    if plugins:
        load_plugins(plugins)
    file, text = parse_file(path_or_text)
    return check(file, all_blocks(), text)


def parse_block(text: str, spec_path: str = "<choice>") -> Block:
    """`naf(sca=off)` -> a checked Block."""
    ref = parse_block_text(text, load_grammar(), spec_path)
    # check the block as the one block of a one-stage probe network: same checks as in a spec
    probe = SpecFile((ArchDecl(Name("probe"), (), (StageDecl("middle", Name("m"), (Run(ref),)),)),), (), path=spec_path)
    return check(probe, all_blocks(), text).stages[0].block


def as_spec(spec: Spec | str | Path) -> Spec:
    return spec if isinstance(spec, Spec) else parse(spec)


def choice_of(spec: Spec, choice: ChoiceLike) -> dict[str, Block]:
    """Slot name -> block for `choice` (a mapping, pairs, or `enc1=naf_relu,dec1=identity` text)."""
    if choice is None:
        return {}
    items = split_choice_text(choice) if isinstance(choice, str) else choice
    return resolve_choice(spec, items, parse_block)
