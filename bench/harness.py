"""The bench harness: suites register figures; the runner prints a table and writes .bench/latest.json."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT_ROOT / ".bench" / "latest.json"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    note: str = ""


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, note: str = "") -> None:
        self.figures.append(Figure(name, value, unit, note))

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {f.name: {"value": f.value, "unit": f.unit} for f in self.figures}


Suite = Callable[[Report], None]


def median_seconds(action: Callable[[], Any], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def write(report: Report) -> Path:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")
    return RESULTS
