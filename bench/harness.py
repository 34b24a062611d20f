"""The bench harness: suites register figures; the runner prints a table and writes .bench/latest.json."""

from __future__ import annotations

import json
import socket
import statistics
import tempfile
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


def synthesized_assembly(suite: str) -> Path:
    """The app synthesized into a fresh scratch folder: what each suite deploys on the embedded local AWS. CDK is
    imported here, not at module level, so that listing or importing the suites stays cheap."""
    from infra.app import synthesize

    return Path(synthesize(Path(tempfile.mkdtemp(prefix=f"bench-{suite}-"))).directory)


def free_port() -> int:
    """A port nobody listens on, for the local AWS over HTTP."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 120.0) -> Any:
    """The first truthy value of ``predicate``, polled; a bench whose condition never comes stops with a message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit("bench: condition not met in time")
