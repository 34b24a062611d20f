"""Ingest figures: DynamoDB requests per signal, and 10,000 signals for 50 alarms from several threads.

Runs the real path (parsers, severity rules, domain decisions, the PynamoDB store with its transactions) on the
embedded local AWS in-process, against the table of the deployed Siren template.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bench.harness import PROJECT_ROOT, Report, synthesized_assembly

ALARMS = 50
THREADS = 8
TOTAL_SIGNALS = 10_000


class RequestCounter:
    """Counts DynamoDB requests by wrapping PynamoDB's single dispatch point."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def installed(self, *, this_thread_only: bool = False) -> Iterator[RequestCounter]:
        """``this_thread_only``: count the caller's own requests, not those of the deployed functions running beside
        it in this process (their escalations, publishers and notifiers run as threads of the local runtime)."""
        from pynamodb.connection.base import Connection

        original = Connection.dispatch
        caller = threading.get_ident()

        def dispatch(connection: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
            if not this_thread_only or threading.get_ident() == caller:
                with self._lock:
                    self.counts[operation_name] += 1
            return original(connection, operation_name, operation_kwargs)

        Connection.dispatch = dispatch  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Connection.dispatch = original  # type: ignore[method-assign]

    def take(self) -> Counter[str]:
        with self._lock:
            taken, self.counts = self.counts, Counter()
        return taken


def alarm_event(name: str, state: str, event_id: str | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [arn],
        "detail": {
            "alarmName": name,
            "configuration": {"description": f"bench alarm {name}", "metrics": []},
            "previousState": {"value": "OK", "reason": "", "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")},
            "state": {"value": state, "reason": "bench", "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")},
        },
    }


def _format(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(counts.items()))


def run(report: Report) -> None:
    from siren.adapters.dynamodb import DynamoIncidents
    from siren.app.ingest import Ingestor
    from siren.config import load_config
    from siren.domain.parsers import parse_cloudwatch_event
    from siren_local.runtime import LocalAws

    assembly = synthesized_assembly("ingest")
    config = load_config(PROJECT_ROOT / "siren.yaml")
    with LocalAws.in_process() as runtime:
        outputs = runtime.deploy_siren(assembly, canary=False).outputs
        table = outputs["IncidentsTableName"]
        ingestor = Ingestor(DynamoIncidents(table), config)
        counter = RequestCounter()

        def ingest(event: dict[str, Any]) -> str:
            return ingestor.ingest(parse_cloudwatch_event(event), event).action

        with counter.installed():
            # Requests per signal, one path at a time.
            assert ingest(alarm_event("bench-cost", "ALARM")) == "opened"
            new = counter.take()
            assert ingest(alarm_event("bench-cost", "ALARM")) == "appended"
            duplicate_warm = counter.take()
            DynamoIncidents.forget_hints()
            assert ingest(alarm_event("bench-cost", "ALARM")) == "appended"
            duplicate_cold = counter.take()
            redelivered = alarm_event("bench-cost", "ALARM")
            ingest(redelivered)
            counter.take()
            assert ingest(redelivered) == "duplicate_delivery"
            redelivery = counter.take()
            assert ingest(alarm_event("bench-cost", "OK")) in ("resolved", "recovered")
            resolve = counter.take()
        for name, counts in (
            ("new_incident", new),
            ("duplicate_warm", duplicate_warm),
            ("duplicate_cold", duplicate_cold),
            ("redelivery", redelivery),
            ("resolve", resolve),
        ):
            writes = counts["TransactWriteItems"] + counts["PutItem"] + counts["UpdateItem"]
            report.add(
                f"ddb_requests_per_signal[{name}]",
                sum(counts.values()),
                "requests",
                f"{writes} write request(s): {_format(counts)}",
            )

        # 10,000 signals for 50 alarms: phases of shuffled, concurrent deliveries with duplicates and redeliveries.
        names = [f"bench-load-{n:02d}" for n in range(ALARMS)]
        retrigger = names[:20]
        per_phase = TOTAL_SIGNALS // 3
        phases: list[list[dict[str, Any]]] = []
        for state, members in (("ALARM", names), ("OK", names), ("ALARM", retrigger)):
            events = [alarm_event(random.choice(members), state) for _ in range(per_phase)]  # noqa: S311
            events += [dict(e) for e in random.sample(events, per_phase // 10)]
            random.shuffle(events)
            phases.append(events)
        DynamoIncidents.forget_hints()
        started = time.perf_counter()
        actions: Counter[str] = Counter()
        with counter.installed(), ThreadPoolExecutor(THREADS) as pool:
            for events in phases:
                actions.update(pool.map(ingest, events))
        elapsed = time.perf_counter() - started
        load_requests = counter.take()
        signals = sum(len(events) for events in phases)

        ddb = runtime.client("dynamodb")
        items: list[dict[str, Any]] = []
        for page in ddb.get_paginator("scan").paginate(TableName=table):  # bench only: count what was written
            items.extend(page["Items"])
        load_incidents = [
            i
            for i in items
            if i["kind"]["S"] == "incident"
            and i["dedup_key"]["S"].startswith("cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:bench-load-")
        ]
        opened_events = [
            i
            for i in items
            if i["kind"]["S"] == "event"
            and i["detail_type"]["S"] == "Incident Opened"
            and "bench-load-" in i["detail"]["S"]
        ]
        expected = ALARMS + len(retrigger)
        report.add("load_signals", signals, "signals", f"{ALARMS} alarms, {THREADS} threads, 3 shuffled phases")
        report.add("load_incidents", len(load_incidents), "incidents", f"expected {expected}")
        report.add(
            "load_incident_opened_events",
            len(opened_events),
            "events",
            f"expected {expected}: one escalation start per incident",
        )
        report.add("ingest_throughput_in_process", round(signals / elapsed, 1), "signals/s", f"{dict(actions)}")
        report.add(
            "load_ddb_requests_per_signal",
            round(sum(load_requests.values()) / signals, 2),
            "requests",
            _format(load_requests),
        )
        if len(load_incidents) != expected or len(opened_events) != expected:
            raise SystemExit(
                f"ingest load gave {len(load_incidents)} incidents / {len(opened_events)} opened "
                f"events, expected {expected}"
            )
