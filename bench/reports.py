"""Report figures: a report with 100,000 incidents in the table (two years of history): time and DynamoDB read
units; and the aggregator's peak memory for 10,000 and 100,000 incidents (it must not grow with the count).

The real path: the report use case streams the period's incidents from the by-time index and the pages and
escalations from the by-activity index (Query only) into the bounded-memory aggregator, then renders the email,
on the embedded local AWS in-process. Read units are computed from the items each Query page returned, by
DynamoDB's rule (4 KB per unit, half a unit for an eventually consistent read): moto reports a constant.

Peak memory is measured on the aggregator alone (tracemalloc), fed in-memory facts: in-process, moto's own
allocations would be counted too, and tracemalloc slows moto's Query several-fold.
"""

from __future__ import annotations

import math
import random
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Report, synthesized_assembly

INCIDENTS = 100_000
HISTORY_DAYS = 730
PERIOD_DAYS = 7


def _item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (numbers and strings by their text, as an estimate)."""
    size = 0
    for name, typed in item.items():
        size += len(name.encode())
        for value in typed.values():
            size += len(str(value).encode())
    return size


class ReadUnits:
    def __init__(self) -> None:
        self.units = 0.0
        self.queries = 0
        self.items = 0
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[ReadUnits]:
        from pynamodb.connection.base import Connection

        original = Connection.dispatch

        def dispatch(connection: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
            result = original(connection, operation_name, operation_kwargs)
            if operation_name in ("Query", "GetItem"):
                items = result.get("Items") or ([result["Item"]] if result.get("Item") else [])
                consistent = bool(operation_kwargs.get("ConsistentRead"))
                units = math.ceil(max(1, sum(_item_bytes(i) for i in items)) / 4096) * (1.0 if consistent else 0.5)
                with self._lock:
                    self.units += units
                    self.queries += 1
                    self.items += len(items)
            return result

        Connection.dispatch = dispatch  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Connection.dispatch = original  # type: ignore[method-assign]


def _history(now: datetime) -> Iterator[Any]:
    from siren.domain.incidents import Incident, IncidentStatus

    rng = random.Random(11)  # noqa: S311 (reproducible bench data, not secrets)
    services = [f"service-{n:02d}" for n in range(40)]
    for n in range(INCIDENTS):
        opened = now - timedelta(days=rng.uniform(0, HISTORY_DAYS), seconds=rng.uniform(0, 3600))
        ack = timedelta(minutes=rng.expovariate(1 / 6))
        resolve = ack + timedelta(minutes=rng.expovariate(1 / 50))
        yield Incident(
            id=f"INC-{opened:%Y%m%d-%H%M}-{n:06x}",
            status=IncidentStatus.RESOLVED,
            severity=rng.choice(["SEV1", "SEV2", "SEV3", "SEV3", "SEV4", "SEV5"]),
            title=f"bench incident {n}",
            service=rng.choice(services),
            dedup_key=f"bench:{n}",
            source="bench",
            opened_at=opened,
            last_seen_at=opened,
            acknowledged_at=opened + ack,
            acknowledged_by="alice",
            resolved_at=opened + resolve,
            resolved_by="alice",
        )


def run(report: Report) -> None:
    from siren.adapters.dynamodb import dynamo_store
    from siren.app.reports import Reports
    from siren.config import load_config
    from siren.domain.reports import Period
    from siren_local.runtime import LocalAws

    assembly = synthesized_assembly("reports")
    with LocalAws.in_process() as runtime:
        outputs = runtime.deploy_siren(assembly, canary=False).outputs
        stores = dynamo_store(outputs["IncidentsTableName"])
        now = datetime.now(UTC)
        started = time.perf_counter()
        stores.incidents.bulk_put(_history(now))
        load_seconds = time.perf_counter() - started
        reports = Reports(stores.incidents, stores.action_items, load_config(Path("siren.yaml")))
        period = Period(now - timedelta(days=PERIOD_DAYS), now)
        meter = ReadUnits()
        with meter.installed():
            started = time.perf_counter()
            rendered = reports.build(period)
            seconds = time.perf_counter() - started

    counted = rendered.report.current.incidents + rendered.report.previous.incidents
    note = (
        f"{INCIDENTS:,} incidents over {HISTORY_DAYS} days in the table; a {PERIOD_DAYS}-day report and the "
        f"period before read {counted:,}; in-process"
    )
    report.add("report_over_100k_table", round(seconds, 2), "s", note)
    report.add(
        "report_over_100k_read_units",
        round(meter.units, 1),
        "RCU",
        f"{meter.queries} Query pages, {meter.items:,} items; by item size",
    )
    report.add("report_email_html_bytes", len(rendered.html.encode()), "bytes", "the HTML part")
    report.add("report_bulk_load_100k", round(load_seconds, 1), "s", "seeding the table (BatchWriteItem)")
    for count in (10_000, 100_000):
        report.add(
            f"report_aggregator_peak_memory_{count // 1000}k",
            round(_aggregator_peak(count) / 2**20, 2),
            "MiB",
            f"{count:,} incidents and {count:,} pages, tracemalloc",
        )


def _aggregator_peak(count: int) -> int:
    from siren.domain.reports import IncidentFacts, OffHours, PageFacts, Period, ReportBuilder

    now = datetime.now(UTC)
    period = Period(now - timedelta(days=365), now)
    rng = random.Random(3)  # noqa: S311 (reproducible bench data, not secrets)
    services = [f"service-{n:02d}" for n in range(40)]
    users = [f"user-{n:02d}" for n in range(30)]
    tracemalloc.start()
    builder = ReportBuilder(period, OffHours())
    for n in range(count):
        opened = now - timedelta(days=rng.uniform(0, 364))
        builder.add_incident(
            IncidentFacts(
                f"INC-{n}",
                rng.choice(["SEV1", "SEV2", "SEV3"]),
                rng.choice(services),
                opened,
                opened + timedelta(minutes=rng.expovariate(1 / 6)),
                opened + timedelta(minutes=rng.expovariate(1 / 50)),
            )
        )
        builder.add_page(PageFacts(opened, rng.choice(users), "Europe/Berlin", f"INC-{n}", "sms"))
    builder.finish([], now.date())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak
