"""Siren watching itself: the canary's end-to-end time, how soon a breached alarm notifies, and what a reconciler
sweep costs. Each on the embedded local AWS, on the real path (the deployed template and handler code)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Report, free_port, median_seconds, synthesized_assembly, wait_for
from bench.ingest import RequestCounter

RESOLVED_HISTORY = 1000
OPEN_INCIDENTS = 10


def run(report: Report) -> None:
    assembly = synthesized_assembly("operations")
    _canary_and_alarms(report, assembly)
    _reconciler_sweep(report, assembly)


def _canary_and_alarms(report: Report, assembly: Path) -> None:
    from siren_local.runtime import LocalAws

    with LocalAws.over_http(port=free_port(), time_scale=1) as runtime:
        outputs = runtime.deploy_siren(assembly, canary=True).outputs
        scheduler = runtime.client("scheduler")
        (canary,) = [s for s in scheduler.list_schedules()["Schedules"] if "CanaryEvery" in s["Name"]]

        # 1. The canary, fired now (its schedule's first run is 5 minutes away at time scale 1): schedule -> webhook
        # -> ingest -> stream -> relay -> bus -> lifecycle -> Step Functions -> first step (dry run) -> heartbeat.
        seconds = []
        for _ in range(3):
            before = _canary_at(runtime, outputs)
            started = time.perf_counter()
            runtime.scheduler.fire(canary["Name"], canary["GroupName"])
            wait_for(lambda before=before: _canary_at(runtime, outputs) != before, timeout=120)
            seconds.append(time.perf_counter() - started)
        beat = _canary_item(runtime, outputs)
        report.add(
            "canary_end_to_end_s",
            round(sorted(seconds)[1], 2),
            "s",
            f"local, over HTTP, time scale 1, median of 3 (first {seconds[0]:.2f} s, with cold starts); the "
            f"canary's own figure for the last, alert sent -> first step: "
            f"{beat['seconds']['N'] if beat else 'none'} s",
        )

        # 2. A breached alarm: datapoint put -> state ALARM -> its SNS action's SMS in the outbox.
        sns = runtime.client("sns")
        topic = sns.create_topic(Name="bench-alarms")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+14255550123")
        cloudwatch = runtime.client("cloudwatch")
        delays = []
        for attempt in range(3):
            name = f"bench-alarm-{attempt}"
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="Bench",
                MetricName=name,
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
                AlarmActions=[topic],
            )
            started = time.perf_counter()
            cloudwatch.put_metric_data(Namespace="Bench", MetricData=[{"MetricName": name, "Value": 5}])
            wait_for(lambda name=name: [m for m in runtime.outbox_json() if name in m["body"]], timeout=60)
            delays.append(time.perf_counter() - started)
        report.add(
            "alarm_evaluation_delay_ms",
            round(sorted(delays)[1] * 1000),
            "ms",
            f"datapoint put -> ALARM -> SMS of its SNS action, median of 3, time scale 1 (the evaluator ticks "
            f"every {runtime.alarms.tick_seconds():g} s; CloudWatch evaluates once a minute)",
        )


def _canary_item(runtime: Any, outputs: dict[str, str]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        runtime.client("dynamodb")
        .get_item(
            TableName=outputs["IncidentsTableName"],
            Key={"pk": {"S": "CANARY"}, "sk": {"S": "HEARTBEAT"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return item


def _canary_at(runtime: Any, outputs: dict[str, str]) -> str | None:
    item = _canary_item(runtime, outputs)
    return item["last_ping_at"]["S"] if item else None


def _reconciler_sweep(report: Report, assembly: Path) -> None:
    from siren.adapters.dynamodb import dynamo_store
    from siren.adapters.escalations import StepFunctionsRuns
    from siren.app.reconcile import Reconciler
    from siren.domain.incidents import Incident, IncidentStatus
    from siren_local.runtime import LocalAws

    now = datetime.now(UTC)
    with LocalAws.in_process(time_scale=1) as runtime:
        outputs = runtime.deploy_siren(assembly, canary=False).outputs
        runtime.pause_schedules("Reconcile")  # the deployed one would sweep on its own
        stores = dynamo_store(outputs["IncidentsTableName"])

        def incident(number: int, status: IncidentStatus) -> Incident:
            opened = now - timedelta(days=number % 80, minutes=5)
            return Incident(
                id=f"INC-BENCH-{number:06d}",
                status=status,
                severity="SEV3",
                title=f"bench {number}",
                service="search",
                dedup_key=f"bench:{number}",
                source="bench",
                opened_at=opened,
                last_seen_at=opened,
                resolved_at=opened + timedelta(minutes=30) if status is IncidentStatus.RESOLVED else None,
            )

        stores.incidents.bulk_put(incident(n, IncidentStatus.RESOLVED) for n in range(RESOLVED_HISTORY))
        stores.incidents.bulk_put(incident(RESOLVED_HISTORY + n, IncidentStatus.OPEN) for n in range(OPEN_INCIDENTS))
        reconciler = Reconciler(
            stores.incidents, stores.escalations, StepFunctionsRuns(outputs["EscalationStateMachineArn"]), lambda: now
        )
        first = reconciler.sweep()  # starts the 10 escalations nothing started (they were written directly)
        runtime.drain()
        counter = RequestCounter()
        # The sweep's own requests: the ten escalations the first sweep started are running beside it, as threads.
        with counter.installed(this_thread_only=True):
            second = reconciler.sweep()
        requests = counter.take()
        sweep_seconds = median_seconds(reconciler.sweep, 5)
        report.add(
            "reconciler_ddb_requests_per_sweep",
            sum(requests.values()),
            "requests",
            f"{RESOLVED_HISTORY} resolved + {OPEN_INCIDENTS} open incidents: "
            + ", ".join(f"{op} {n}" for op, n in sorted(requests.items()))
            + f"; the first sweep repaired {len(first.repairs)}, the second {len(second.repairs)}",
        )
        report.add(
            "reconciler_sweep_ms",
            round(sweep_seconds * 1000, 1),
            "ms",
            "in-process local AWS, median of 5 (DynamoDB and Step Functions calls included)",
        )
