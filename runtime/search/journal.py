"""The search journal: one JSON line per evaluation, appended and flushed as it completes.

A killed search resumes from it and never evaluates a network twice. A last line cut short by the
kill is ignored (the evaluation it was writing is simply redone).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from attrs import asdict, frozen


@frozen
class Evaluation:
    canonical: str  # the network's one canonical string
    indices: tuple[int, ...]  # candidate index per searchable slot
    objectives: dict[str, float]  # psnr_drop (dB), latency_ms, optionally ssim_drop
    seconds: float  # wall time of the evaluation
    strategy: str
    order: int  # 0-based position in the search

    @property
    def psnr_drop(self) -> float:
        return self.objectives["psnr_drop"]

    @property
    def latency_ms(self) -> float:
        return self.objectives["latency_ms"]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["indices"] = list(self.indices)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Evaluation:
        objectives = {k: float(v) for k, v in d["objectives"].items()}
        return cls(d["canonical"], tuple(int(i) for i in d["indices"]), objectives,
                   float(d["seconds"]), str(d["strategy"]), int(d["order"]))


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> list[Evaluation]:
        if not self.path.exists():
            return []
        out: list[Evaluation] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(Evaluation.from_json(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line cut short by a kill: redo that evaluation
        return sorted(out, key=lambda e: e.order)  # a parallel round journals in finishing order

    def append(self, ev: Evaluation) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(ev.to_json()) + "\n")
            f.flush()
            os.fsync(f.fileno())
