"""Run every bench suite, print the figures, write .bench/latest.json."""

from __future__ import annotations

import os

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench import escalation, faults, foundation, ingest, operations, reports, routing, status, suite
from bench.harness import Report, goal_of, write

# The test suite last: it runs `make test`, and nothing else should share the machine with it.
SUITES = [
    foundation.run,
    routing.run,
    ingest.run,
    escalation.run,
    status.run,
    reports.run,
    operations.run,
    faults.run,
    suite.run,
]


def main() -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
    report = Report()
    for run_suite in SUITES:
        run_suite(report)
    table = Table(title="Siren bench")
    for column in ("figure", "value", "unit", "goal", "note"):
        table.add_column(column)
    for figure in report.figures:
        goal = goal_of(figure.name)
        judged = "" if goal is None else f"{goal} {'met' if goal.met(figure.value) else 'NOT MET'}"
        table.add_row(escape(figure.name), f"{figure.value:g}", figure.unit, judged, escape(figure.note))
    console = Console(width=160, emoji=False)
    console.print(table)
    console.print(report.verdict())
    console.print(f"written to {write(report)}")


if __name__ == "__main__":
    main()
