"""The search journal: one JSON line per evaluation, appended and flushed as it completes.

A killed search resumes from it and never evaluates a network twice. A last line cut short by the
kill is ignored (the evaluation it was writing is simply redone). Each evaluation records where
its proposal came from (`origin`: `initial-teacher`, `initial-additive`, `initial-random`, `bo`, a
strategy's name, or `fill-random` when a strategy had nothing new). A line `{"note": ...}` is a
note about the search (e.g. why it fell back to a random initial design), not an evaluation.
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
    origin: str = ""  # where the proposal came from (module docstring)

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
                   float(d["seconds"]), str(d["strategy"]), int(d["order"]), str(d.get("origin", "")))


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> list[Evaluation]:
        if not self.path.exists():
            return []
        out: list[Evaluation] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                if "note" in row:
                    continue
                out.append(Evaluation.from_json(row))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line cut short by a kill: redo that evaluation
        return sorted(out, key=lambda e: e.order)  # a parallel round journals in finishing order

    def append(self, ev: Evaluation) -> None:
        self._write(ev.to_json())

    def notes(self) -> list[str]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "note" in row:
                out.append(str(row["note"]))
        return out

    def note(self, text: str) -> None:
        """Record `text` once (a resumed search does not repeat it)."""
        if text not in self.notes():
            self._write({"note": text})

    def _write(self, row: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
