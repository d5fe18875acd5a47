"""The public Python API: parse a spec, build a module, compile to IR."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import networkx as nx
from torch import nn

from archc.compiler.choice import resolve_choice, split_choice_text
from archc.compiler.ir import to_ir
from archc.compiler.lower import ArchNet, lower
from archc.compiler.tlc import apply_tlc
from archc.compiler.weights import apply_state, load_state
from archc.dsl.ast import ArchDecl, Name, Run, SpecFile, StageDecl
from archc.dsl.check import check
from archc.dsl.grammar import Grammar, compose
from archc.dsl.parser import parse_block_text, parse_text, read_spec_text
from archc.dsl.spec import Block, Spec
from archc.runtime.blocks import all_blocks, load_plugins

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
    if choice is None:
        return {}
    items = split_choice_text(choice) if isinstance(choice, str) else choice
    return resolve_choice(spec, items, parse_block)


def compile_ir(spec: Spec | str | Path, choice: ChoiceLike = None) -> nx.DiGraph:
    s = as_spec(spec)
    return to_ir(s, choice_of(s, choice))


def build(spec: Spec | str | Path, choice: ChoiceLike = None, weights: str | Path | None = None,
          tlc_train_size: tuple[int, int] | None = None, surrogates: str | Path | None = None) -> nn.Module:
    """The torch module of `spec` with `choice` applied.

    `weights` may be an official NAFNet checkpoint (`.pth`, dict under `params`) or an archc
    `.safetensors` file. `tlc_train_size=(H, W)` applies NAFNet's test-time local converter for a
    network trained on H x W crops (the module is then returned in eval mode). `surrogates` is a
    bank folder from `archc distill`: `weights` is then its teacher, and every chosen slot that does
    not keep its original block takes the bank's trained surrogate (DistillError if it has none).
    """
    s = as_spec(spec)
    chosen = choice_of(s, choice)
    model: ArchNet = lower(to_ir(s, chosen))
    if surrogates is not None:
        from archc.runtime.distill.bank import plug_surrogates

        plug_surrogates(model, s, chosen, weights, surrogates)
    elif weights is not None:
        apply_state(model, load_state(weights), source=str(weights))
    if tlc_train_size is not None:
        apply_tlc(model, tlc_train_size, s.in_channels)
    return model
