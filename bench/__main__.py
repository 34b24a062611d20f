"""Run every bench suite, print the figures, write .bench/latest.json."""

from __future__ import annotations

import argparse
import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench import bill, escalation, faults, foundation, ingest, operations, reports, routing, slack, status, suite
from bench.harness import PROJECT_ROOT, Report, Suite, goal_of, write

LOGS = PROJECT_ROOT / ".bench" / "logs"


def logs_to_file(path: Path) -> TextIO:
    """The functions' logs (Powertools' handler on the ``siren`` logger, which the embedded runtime's ``siren.local``
    loggers reach too) and every other library's (moto's Step Functions parser, say) go to ``path``, so that the
    bench's output is its figures. Returns the open file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = path.open("w", encoding="utf-8")
    for handler in logging.getLogger("siren").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.StreamHandler(stream))
    logging.captureWarnings(True)  # Powertools' "no metrics to publish" and the like: logged, not printed
    return stream


def suites(seats: int, seat_price: float) -> list[Suite]:
    """Every suite, in order. The test suite last: it runs `make test`, and nothing else should share the machine
    with it."""
    return [
        foundation.run,
        routing.run,
        ingest.run,
        escalation.run,
        slack.run,
        functools.partial(bill.run, seats=seats, seat_price=seat_price),
        status.run,
        reports.run,
        operations.run,
        faults.run,
        suite.run,
    ]


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--seats",
        type=int,
        default=bill.DEFAULT_SEATS,
        help="seats of the per-seat price the modelled AWS bill is set against (default %(default)s)",
    )
    parser.add_argument(
        "--seat-price",
        type=float,
        default=bill.DEFAULT_SEAT_PRICE,
        help="USD per seat a month (default %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    options = arguments(argv)
    import siren.observability  # noqa: F401 - makes the ``siren`` logger's handler, which logs_to_file points at the file

    report = Report()
    log_file = logs_to_file(LOGS / "bench.log")
    try:
        for run_suite in suites(options.seats, options.seat_price):
            run_suite(report)
    finally:
        log_file.close()
    table = Table(title="Siren bench")
    for column in ("figure", "value", "unit", "goal", "note"):
        table.add_column(column)
    for figure in report.figures:
        goal = goal_of(figure.name)
        judged = "" if goal is None else f"{goal} {'met' if goal.met(figure.value) else 'NOT MET'}"
        table.add_row(escape(figure.name), f"{figure.value:g}", figure.unit, judged, escape(figure.note))
    console = Console(width=160, emoji=False)
    console.print(table)
    console.print(escape(report.verdict()))  # figure names hold [brackets], which are markup to rich
    console.print(f"written to {write(report)}; function and library logs in {LOGS / 'bench.log'}")


if __name__ == "__main__":
    main()
