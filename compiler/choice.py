"""Choices: which block fills each slot. Parsing them from text, checking them against the spec,
and their one canonical string (used for caching, dedup and journals)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from archc.diagnostics import quoted_list, unknown_name_help
from archc.dsl.precision import ORIGINAL
from archc.dsl.spec import Block, Spec
from archc.errors import LoweringError

Choice = dict[str, Block]
BlockParser = Callable[[str], Block]


def split_choice_text(text: str) -> list[tuple[str, str]]:
    """`enc1=dsconv;mid=naf(sca=off, dw_expand=4)` -> [(enc1, dsconv), (mid, naf(...))].

    Items are separated by `;` or by `,` outside parentheses.
    """
    items, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch in ";," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        if "=" not in item:
            raise LoweringError(f"choice `{item}` is not of the form SLOT=BLOCK", code="E0301",
                                help="write e.g. `--choice enc1=dsconv` or `--choice 'mid=naf(sca=off)'`")
        slot, block = item.split("=", 1)
        out.append((slot.strip(), block.strip()))
    return out


def _targets(spec: Spec) -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """name -> (kind of target, allowed canonical blocks or None for any)."""
    out: dict[str, tuple[str, tuple[str, ...] | None]] = {s.name: ("stage", None) for s in spec.stages}
    if spec.search is not None:
        for slot in spec.search.slots:
            out[slot.name] = ("slot", tuple(c.canonical for c in slot.candidates))
        for slot in spec.search.fixed:
            out[slot.name] = ("fixed", (slot.original.canonical,))
    return out


def resolve_choice(spec: Spec, items: Mapping[str, Block | str] | Iterable[tuple[str, Block | str]],
                   parse_block: BlockParser) -> Choice:
    """Check a mapping slot -> block against the spec; block texts are parsed with `parse_block`."""
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    targets = _targets(spec)
    out: Choice = {}
    for name, value in pairs:
        block = value if isinstance(value, Block) else parse_block(value)
        if name not in targets:
            raise LoweringError(f"`{name}` is neither a slot nor a stage of `{spec.name}`", code="E0302",
                                help=unknown_name_help(name, targets, f"choose from {quoted_list(targets)}"))
        kind, allowed = targets[name]
        if allowed is not None and block.canonical not in allowed:
            if kind == "fixed":
                raise LoweringError(f"slot `{name}` is excluded from the search and keeps `{allowed[0]}`",
                                    code="E0303", help="remove the `exclude` line to make it searchable")
            raise LoweringError(f"`{block.canonical}` is not a candidate of slot `{name}`", code="E0304",
                                help=f"its candidates are {quoted_list(allowed, conj='and')}")
        if name in out:
            raise LoweringError(f"slot `{name}` is chosen twice", code="E0305")
        out[name] = block
    _check_overlaps(spec, out)
    return out


def _check_overlaps(spec: Spec, choice: Choice) -> None:
    if spec.search is None:
        return
    slots = {s.name: s for s in (*spec.search.slots, *spec.search.fixed)}
    for name in choice:
        slot = slots.get(name)
        if slot is not None and slot.name != slot.stage and slot.stage in choice:
            raise LoweringError(f"both stage `{slot.stage}` and its slot `{name}` are chosen", code="E0306",
                                help="choose either the whole stage or its slots")


def canonical_choice(spec: Spec, choice: Mapping[str, Block], precisions: Mapping[str, str] | None = None) -> str:
    """One string per network: every searchable slot in network order, `slot=block;...`.

    Slots absent from `choice` hold their original block, so equal networks get equal strings.
    With `precisions` (a search over precision), each searchable slot is `slot=block@precision`,
    fp16 where `precisions` does not name it.
    """
    if spec.search is None:
        names = [s.name for s in spec.stages]
        originals = {s.name: s.block for s in spec.stages}
    else:
        names = [s.name for s in spec.search.slots]
        originals = {s.name: s.original for s in spec.search.slots}
    extra = sorted(set(choice) - set(names))
    parts = [f"{n}={choice.get(n, originals.get(n)).canonical}" for n in names]  # type: ignore[union-attr]
    if precisions is not None:
        parts = [f"{part}@{precisions.get(n, ORIGINAL)}" for n, part in zip(names, parts, strict=True)]
    parts += [f"{n}={choice[n].canonical}" for n in extra]
    return ";".join(parts)
