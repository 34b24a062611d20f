"""The fault matrix, the store: DynamoDB throttles writes during an alert storm, and no alert is lost or doubled.

GIVEN Siren deployed on the embedded local AWS (the matrix's runtime; time scale 5 while the storm blows: 30 seconds of
AWS time are 6 wall seconds, time for a storm to meet the throttling on a busy machine)
WHEN DynamoDB answers every write with ProvisionedThroughputExceededException (a transaction with its cancellation,
ThrottlingError per item) for 30 scaled seconds while a storm of alerts arrives, each sender retrying what it was
refused as Alertmanager does
THEN each dedup key has exactly one incident, holding every one of its alerts once.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from siren_local.clock import set_time_scale
from tests.e2e.test_ingest_paths import post
from tests.faults.support import SCALE, level_one, on_call, phone, sent, table, timeline
from tests.support import wait_for

pytestmark = pytest.mark.e2e
STORM_SCALE = 5.0  # while the storm blows: 30 AWS seconds are 6 wall seconds
KEYS = [f"faults-storm-{n}" for n in range(4)]
REPEATS = 2  # alerts per key, each its own delivery (event_id)
SENDER_TRIES = 30


def deliver(runtime: Any, alert: dict[str, Any], token: str) -> int:
    """Post until accepted, as Alertmanager retries a refused notification; returns the tries it took."""
    for attempt in range(1, SENDER_TRIES + 1):
        status, _ = post(runtime, "generic", alert, token=token)
        if status in (200, 202):
            return attempt
        assert status in (429, 500, 502, 503, 504), status  # only what a sender retries
        time.sleep(0.1)
    raise AssertionError(f"{alert['event_id']} was refused {SENDER_TRIES} times")


def incidents_by_key(runtime: Any) -> dict[str, list[dict[str, Any]]]:
    items = runtime.client("dynamodb").scan(
        TableName=table(runtime), FilterExpression="kind = :k", ExpressionAttributeValues={":k": {"S": "incident"}}
    )["Items"]
    found: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        incident = {k: next(iter(v.values())) for k, v in item.items()}
        key = str(incident.get("dedup_key", "")).removeprefix("generic:")  # the store keeps the source's namespace
        if key in KEYS:
            found.setdefault(key, []).append(incident)
    return found


def test_dynamodb_throttling_writes_during_an_alert_storm_loses_and_doubles_nothing(runtime):
    # GIVEN a webhook that has served a request (its cold start is not what this measures), then DynamoDB
    # throttling every write for 30 seconds of AWS time
    token = runtime.info()["webhook_token"]
    assert post(runtime, "generic", {"dedup_key": "faults-storm-warm-up", "status": "resolved"}, token=token)[0] in (
        200,
        202,
    )
    set_time_scale(STORM_SCALE)
    try:
        fault = runtime.add_fault("dynamodb", mode="throttle", operations=["writes"], for_seconds=30)
        alerts = [
            {"dedup_key": key, "title": key, "severity": "SEV4", "event_id": f"{key}-{n}", "summary": f"alert {n}"}
            for n in range(REPEATS)
            for key in KEYS
        ]

        # WHEN the storm arrives meanwhile, four senders at a time
        with ThreadPoolExecutor(max_workers=4) as senders:
            tries = list(senders.map(lambda alert: deliver(runtime, alert, token), alerts))
    finally:
        set_time_scale(SCALE)

    # THEN the throttling bit, and every alert got in
    assert fault.hits > 0
    assert len(tries) == len(alerts)

    def settled() -> dict[str, list[dict[str, Any]]] | None:
        found = incidents_by_key(runtime)
        counts = [int(incident["alert_count"]) for incidents in found.values() for incident in incidents]
        return found if sorted(found) == sorted(KEYS) and sum(counts) >= len(alerts) else None

    found = wait_for(settled, timeout=90)
    assert runtime.drain(60)
    found = incidents_by_key(runtime)
    # ...exactly one incident per dedup key, holding each of its alerts once (a retried delivery is not a new alert)
    assert {key: len(incidents) for key, incidents in found.items()} == dict.fromkeys(KEYS, 1)
    assert {key: int(incidents[0]["alert_count"]) for key, incidents in found.items()} == dict.fromkeys(KEYS, REPEATS)
    # ...its timeline tells it so: opened once, every other alert appended...
    for incidents in found.values():
        kinds = [entry.kind for entry in timeline(runtime, incidents[0]["pk"].removeprefix("INC#"))]
        assert (kinds.count("opened"), kinds.count("alert_appended")) == (1, REPEATS - 1), kinds
    # ...and each paged the primary by text at level 1, once: the throttled writes lost no page and doubled none
    primary = on_call(0, "SEV4")[0]
    for incidents in found.values():
        incident = {"id": incidents[0]["pk"].removeprefix("INC#"), "title": incidents[0]["title"]}
        wait_for(lambda incident=incident: sent(runtime, incident, phone(primary), "sms"))
        first = wait_for(
            lambda incident=incident: (
                (found := level_one(timeline(runtime, incident["id"])))
                and any(e.is_page(primary, "sms") for e in found)
                and found
            )
        )
        assert len([e for e in first if e.is_page(primary, "sms")]) == 1
