"""The bench harness: suites register figures; the runner prints a table and writes .bench/latest.json."""

from __future__ import annotations

import fnmatch
import json
import operator
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


@dataclass(frozen=True)
class Goal:
    """What a figure should be: ``value <op> target`` (op one of <, <=, ==, >=, >)."""

    op: str
    target: float

    def met(self, value: float) -> bool:
        return bool(COMPARISONS[self.op](value, self.target))

    def __str__(self) -> str:
        return f"{self.op} {self.target:g}"


COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}

# The goals the figures are judged against (issue 14's table and the brief's budgets); a name may be a pattern.
GOALS: dict[str, Goal] = {
    "cold_import_ratio[page_handlers.*]": Goal("<=", 1.5),
    "cold_import_ratio[ingest_handlers.*]": Goal("<=", 1.5),
    "cold_import_ratio[status_handlers.*]": Goal("<=", 1.5),
    "cold_import_ratio[report_handlers.*]": Goal("<=", 2),
    "alarm_to_first_page_cold_ms": Goal("<", 1000),
    "alarm_to_first_page_warm_ms": Goal("<", 300),
    "hops_commit_to_escalation_start": Goal("<=", 1),
    # Slack gives an answer three seconds; locally a cold start lacks Lambda's own init and Slack's network: margin.
    "slack_command_answer_cold_ms": Goal("<", 2500),
    "slack_command_answer_warm_ms": Goal("<", 1000),
    "status_publish_full": Goal("<", 2000),
    "status_publish_after_one_update": Goal("<", 300),
    "status_index_html_bytes": Goal("<", 51200),
    "faults_survived": Goal(">=", 10),
    "pages_lost": Goal("==", 0),
    "test_suite_wall_s": Goal("<=", 360),
    # Running Siren for 50 responders and 100 incidents a month costs less in AWS than the per-seat price.
    "monthly_bill_to_per_seat_price": Goal("<", 1),
}


def goal_of(name: str) -> Goal | None:
    for pattern, goal in GOALS.items():
        if fnmatch.fnmatchcase(name, pattern.replace("[", "[[]")):
            return goal
    return None


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, note: str = "") -> None:
        self.figures.append(Figure(name, value, unit, note))

    def to_json(self) -> dict[str, dict[str, Any]]:
        judged = {}
        for f in self.figures:
            entry: dict[str, Any] = {"value": f.value, "unit": f.unit}
            goal = goal_of(f.name)
            if goal is not None:
                entry.update(goal=str(goal), met=goal.met(f.value))
            judged[f.name] = entry
        return judged

    def verdict(self) -> str:
        """One line: how many of the figures that have a goal meet it, and which do not."""
        judged = [(f, goal) for f in self.figures if (goal := goal_of(f.name)) is not None]
        missed = [f.name for f, goal in judged if not goal.met(f.value)]
        line = f"{len(judged) - len(missed)} of {len(judged)} figures with a goal meet it"
        return line + (f"; not met: {', '.join(missed)}" if missed else "")


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
