"""`exclude top K by METRIC`: resolve() picks the right slots, and says why it cannot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import archc
from archc.compiler.space import SearchSpace
from archc.runtime.saliency import SaliencyError, resolve
from archc.runtime.saliency.report import FORMAT

from saliency_nets import SEARCHED

RANGES = {
    "e1": ("e1", 0, 1),
    "e2[0:1]": ("e2", 0, 1),
    "e2[1:2]": ("e2", 1, 2),
    "m": ("m", 0, 1),
    "d2": ("d2", 0, 1),
    "d1": ("d1", 0, 1),
}


def _file(tmp_path: Path, scores: dict[str, float | None], metric: str = "snip", **extra: Any) -> Path:
    slots = []
    for name, value in scores.items():
        stage, start, stop = RANGES[name]
        entry: dict[str, Any] = {
            "name": name,
            "stage": stage,
            "start": start,
            "stop": stop,
            "scores": {metric: {"sum": value, "per_param": value, "rank": None}},
        }
        if value is None:
            entry["nonfinite"] = {f"{metric}.sum": "nan"}
        slots.append(entry)
    path = tmp_path / "run" / "saliency.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"format": FORMAT, "metrics": {metric: {}}, "slots": slots, **extra}))
    return path


def test_picks_the_k_highest_searchable_slots(tmp_path: Path) -> None:
    spec = archc.parse(SEARCHED)
    # d2 scores highest but is fixed by `exclude d2`, so it is not ranked
    path = _file(tmp_path, {"e1": 0.5, "e2[0:1]": 3.0, "e2[1:2]": 0.1, "m": 2.0, "d2": 9.0, "d1": 1.0})
    result = resolve(spec, path.parent)  # the run folder
    [rule] = result.rules
    assert rule.picked == (("e2[0:1]", 3.0), ("m", 2.0))
    assert [n for n, _ in rule.ranking] == ["e2[0:1]", "m", "d1", "e1", "e2[1:2]"]
    assert result.excluded == ("e2[0:1]", "m")
    assert result.reason("m") == "exclude top 2 by snip (2)" and result.reason("e1") is None
    space = SearchSpace.of(spec, exclude=result.excluded)
    assert [s.name for s in space.slots] == ["e1", "e2[1:2]", "d1"] and space.size == 27


def test_ties_keep_network_order_and_rules_unite(tmp_path: Path) -> None:
    spec = archc.parse(SEARCHED.replace("exclude top 2 by snip", "exclude top 1 by snip\n    exclude top 2 by snip"))
    path = _file(tmp_path, {"e1": 1.0, "e2[0:1]": 1.0, "e2[1:2]": 1.0, "m": 0.0, "d2": 0.0, "d1": 1.0})
    result = resolve(spec, path)
    assert [r.picked for r in result.rules] == [(("e1", 1.0),), (("e1", 1.0), ("e2[0:1]", 1.0))]
    assert result.excluded == ("e1", "e2[0:1]")


@pytest.mark.parametrize(
    ("scores", "metric", "code", "message"),
    [
        (
            {"e1": 1.0, "e2[0:1]": 1.0, "e2[1:2]": 1.0, "m": 1.0, "d2": 1.0, "d1": 1.0},
            "fisher",
            "E1013",
            "has no `snip` scores",
        ),
        ({"e1": 1.0, "e2[0:1]": 1.0, "m": 1.0, "d2": 1.0, "d1": 1.0}, "snip", "E1012", "does not score slot `e2[1:2]`"),
        (
            {"e1": 1.0, "e2[0:1]": None, "e2[1:2]": 1.0, "m": 1.0, "d2": 1.0, "d1": 1.0},
            "snip",
            "E1014",
            "`e2[0:1]` is nan",
        ),
    ],
)
def test_what_cannot_be_resolved_is_one_clear_error(
    tmp_path: Path, scores: dict[str, float | None], metric: str, code: str, message: str
) -> None:
    with pytest.raises(SaliencyError) as info:
        resolve(archc.parse(SEARCHED), _file(tmp_path, scores, metric))
    assert info.value.diagnostics[0].code == code
    assert message in str(info.value)


def test_missing_or_foreign_files(tmp_path: Path) -> None:
    spec = archc.parse(SEARCHED)
    with pytest.raises(SaliencyError, match="no saliency file") as info:
        resolve(spec, tmp_path / "nowhere")
    assert info.value.diagnostics[0].code == "E1010"
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(SaliencyError, match="not an archc saliency file"):
        resolve(spec, tmp_path / "other.json")


def test_a_spec_without_rules_resolves_to_nothing(tmp_path: Path) -> None:
    spec = archc.parse(SEARCHED.replace("exclude top 2 by snip", ""))
    assert resolve(spec, _file(tmp_path, {"e1": 1.0})).excluded == ()
