"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) against Siren's local webhook, through both
ways it used to lose pages: a group with one alert stamped in the future (a Prometheus with a fast clock) was
refused whole, and a group of 80 alerts with long descriptions (314 KB) was over the old 256 KB limit, forever.

GIVEN the synthesized stack deployed locally over HTTP (one runtime for this module) with the rules of the Siren bus
disabled (what is asserted here is intake: 83 escalations paging at once would only load the 2-core machine) and
Alertmanager configured as the README says,
WHEN alerts are pushed into Alertmanager through its v2 API, THEN every alert of each group opens its incident
once, and the resolves Alertmanager sends close them all. Counts are awaited, never timed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.domain.parsers._alerts import labels_fingerprint
from siren.domain.signals import CLOCK_SKEW_NOTE
from tests.alertmanager_harness import (
    AlertmanagerSetupError,
    RunningAlertmanager,
    ensure_alertmanager,
    running_alertmanager,
    webhook_config,
)
from tests.conftest import running_runtime

pytestmark = pytest.mark.e2e

WAIT_S = 180  # Alertmanager sends within seconds; this is only how long a failure takes to show
SEVERITY = "info"  # SEV4 (siren.yaml's label_map)


@pytest.fixture(scope="module")
def siren(siren_assembly: Path) -> Iterator[Any]:
    """Siren deployed, its incidents opening without escalating: this module is about the front door (hundreds of
    incidents, each escalation a Step Functions run paging people, would only slow it). The bus's rules are off,
    and the ingest functions do not know the machine (so they start no escalation themselves)."""
    for runtime in running_runtime("http", 60, siren_assembly):
        events = runtime.client("events")
        bus = runtime.stacks["Siren"].outputs["EventBusName"]
        for rule in events.list_rules(EventBusName=bus)["Rules"]:
            events.disable_rule(Name=rule["Name"], EventBusName=bus)
        lam = runtime.client("lambda")
        for function in lam.list_functions()["Functions"]:
            variables = function.get("Environment", {}).get("Variables", {})
            if "Ingest" in function["FunctionName"] and "ESCALATION_STATE_MACHINE_ARN" in variables:
                variables = {**variables, "ESCALATION_STATE_MACHINE_ARN": ""}
                lam.update_function_configuration(
                    FunctionName=function["FunctionName"], Environment={"Variables": variables}
                )
        yield runtime


@pytest.fixture(scope="module")
def alertmanager(siren: Any) -> Iterator[RunningAlertmanager]:
    try:
        ensure_alertmanager()
    except AlertmanagerSetupError as error:
        pytest.skip(f"Debian's prometheus-alertmanager could not be obtained: {error}")
    info = siren.info()
    config = webhook_config(
        info["webhook_url"].rstrip("/") + "/alertmanager", info["webhook_token"], group_by=["alertname"]
    )
    with running_alertmanager(config) as running:
        yield running


def at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert(name: str, instance: int, starts: datetime, description: str = "", ends: datetime | None = None) -> dict:
    labels = {"alertname": name, "instance": f"host-{instance:03d}", "job": "siren-e2e", "severity": SEVERITY}
    posted: dict[str, Any] = {
        "labels": labels,
        "annotations": {"summary": f"{name} on host-{instance:03d}", "description": description or name},
        "startsAt": at(starts),
        "generatorURL": "http://prometheus.example.org:9090/graph",
    }
    # Prometheus sends endsAt with every firing alert (a few evaluation intervals ahead, by its own clock): a fast
    # clock makes both ahead.
    posted["endsAt"] = at(ends if ends is not None else starts + timedelta(minutes=4))
    return posted


def key_of(posted: dict[str, Any]) -> str:
    return "alertmanager:" + labels_fingerprint(posted["labels"])


def incidents_by_key(siren: Any) -> dict[str, list[dict[str, str]]]:
    table = siren.stacks["Siren"].outputs["IncidentsTableName"]
    found: dict[str, list[dict[str, str]]] = {}
    # Only the incidents' key and status come back: the table also holds every raw alert (KBs each), and a poll
    # that ships them all over HTTP twice a second takes the CPU the pipeline under test needs.
    pages = (
        siren.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=table,
            FilterExpression="kind = :incident",
            ExpressionAttributeValues={":incident": {"S": "incident"}},
            ProjectionExpression="id, pk, dedup_key, opened_at, #status",
            ExpressionAttributeNames={"#status": "status"},
        )
    )
    for page in pages:
        for item in page["Items"]:
            flat = {name: next(iter(value.values())) for name, value in item.items()}
            found.setdefault(flat["dedup_key"], []).append(flat)
    return found


def all_resolved(siren: Any, keys: Iterable[str]) -> bool:
    found = incidents_by_key(siren)  # one scan for all the keys
    return all(incident["status"] == "resolved" for key in keys for incident in found.get(key, [{"status": "-"}]))


def wait_for(what: str, check: Callable[[], bool], alertmanager: RunningAlertmanager) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1.0)
    pytest.fail(f"waited {WAIT_S} s for {what}, in vain. Alertmanager's log:\n{alertmanager.log()}")


def resolve(alertmanager: RunningAlertmanager, alerts: list[dict[str, Any]]) -> None:
    """Resolve the alerts as Prometheus does (endsAt in the past). Alertmanager keeps the earliest startsAt of an
    alert, and refuses an endsAt before startsAt: the fast-clock alert is resolved as its Prometheus would once its
    clock is set right."""
    now = datetime.now(UTC)
    starts, ends = at(now - timedelta(minutes=1)), at(now - timedelta(seconds=1))
    alertmanager.post_alerts([{**a, "startsAt": starts, "endsAt": ends} for a in alerts])


def test_a_group_with_one_alert_ten_minutes_ahead_opens_all_three_incidents(siren, alertmanager):
    # GIVEN a group of three alerts, one stamped 10 minutes ahead (its Prometheus's clock is fast)
    now = datetime.now(UTC)
    group = [alert("ClockSkew", 1, now), alert("ClockSkew", 2, now + timedelta(minutes=10)), alert("ClockSkew", 3, now)]
    keys = [key_of(a) for a in group]

    # WHEN Alertmanager sends the group to Siren
    alertmanager.post_alerts(group)

    # THEN all three incidents open, once each; the skewed one at the receive time, with a note on its timeline
    wait_for("three incidents", lambda: set(keys) <= set(incidents_by_key(siren)), alertmanager)
    found = incidents_by_key(siren)
    assert [len(found[k]) for k in keys] == [1, 1, 1]
    skewed = found[keys[1]][0]
    assert datetime.fromisoformat(skewed["opened_at"]) < now + timedelta(minutes=5)
    timeline = siren.client("dynamodb").query(
        TableName=siren.stacks["Siren"].outputs["IncidentsTableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"INC#{skewed['id']}"}},
    )["Items"]
    notes = [json.loads(i["data"]["S"]) for i in timeline if i.get("entry_kind", {}).get("S") == "opened"]
    assert len(notes) == 1 and "s ahead of the time Siren received it" in notes[0]["details"][CLOCK_SKEW_NOTE]

    # WHEN the alerts resolve THEN Alertmanager's resolved notification closes all three
    resolve(alertmanager, group)
    wait_for("three resolved incidents", lambda: all_resolved(siren, keys), alertmanager)
    found = incidents_by_key(siren)  # one scan for all the keys: the table holds every raw alert
    assert [len(found[k]) for k in keys] == [1, 1, 1]


def test_a_group_of_80_alerts_with_long_descriptions_arrives_whole_and_resolves(siren, alertmanager):
    # GIVEN a group of 80 alerts whose descriptions make the notification about 314 KB
    now = datetime.now(UTC)
    description = "The disk of this host filled up; the last rotation failed. " * 63  # ~3.8 KB
    group = [alert("BigGroup", n, now, description) for n in range(80)]
    keys = {key_of(a) for a in group}

    # WHEN Alertmanager sends the group (one request: max_alerts 0)
    alertmanager.post_alerts(group)

    # THEN every alert opens its incident, once
    wait_for("80 incidents", lambda: keys <= set(incidents_by_key(siren)), alertmanager)
    found = incidents_by_key(siren)
    assert all(len(found[k]) == 1 for k in keys)
    # ... from one request over the old 256 KB limit, kept whole and applied from the queue
    sizes = queued_body_sizes(siren)
    assert sizes and max(sizes) > 300 * 1024, sizes

    # WHEN they resolve THEN Alertmanager's resolved notification (80 alerts again) closes every one
    resolve(alertmanager, group)
    wait_for("80 resolved incidents", lambda: all_resolved(siren, keys), alertmanager)
    found = incidents_by_key(siren)  # one scan, not one per key (80 scans of 160 raw alerts took 13 s)
    assert all(len(found[k]) == 1 for k in keys)


def queued_body_sizes(siren: Any) -> list[int]:
    """The sizes of the request bodies the webhook kept for its queue."""
    functions = siren.client("lambda").list_functions()["Functions"]
    (bucket,) = {
        f["Environment"]["Variables"]["WEBHOOK_BODY_BUCKET"]
        for f in functions
        if "WEBHOOK_CHUNK_FUNCTION" in f.get("Environment", {}).get("Variables", {})
    }
    return [o["Size"] for o in siren.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


# -- the same front door, without Alertmanager ----------------------------------------------------------------------
def send(siren: Any, path: str, body: bytes) -> tuple[int, dict[str, Any], Any]:
    info = siren.info()
    request = urllib.request.Request(
        info["webhook_url"].rstrip("/") + "/" + path,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {info['webhook_token']}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), error.headers


def test_a_generic_batch_applies_its_good_alerts_and_keeps_each_refused_one_with_its_reason(siren):
    batch = {
        "alerts": [
            {"dedup_key": "batch-ok-1", "title": "ok"},
            {"title": "no key"},
            {"dedup_key": "batch-ok-2", "title": "ok", "occurred_at": "2099-01-01T00:00:00Z"},
        ]
    }
    status, answer, _ = send(siren, "generic", json.dumps(batch).encode())

    assert status == 202, answer
    assert [r["action"] for r in answer["results"]] == ["opened", "opened"]
    assert answer["refused"] == [{"index": 1, "reason": "alerts[1].dedup_key is required"}]
    assert "ahead of the time Siren received it" in answer["results"][1]["note"]  # 2099: clamped, not refused
    assert {"generic:batch-ok-1", "generic:batch-ok-2"} <= set(incidents_by_key(siren))
    queue = siren.stacks["Siren"].outputs["DeadLetterQueueUrl"]
    kept = [
        json.loads(m["Body"])
        for m in siren.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0)[
            "Messages"
        ]
    ]
    (refused,) = [k for k in kept if k["source"] == "generic" and k["payload"].get("index") == 1]
    assert refused["reason"] == "alerts[1].dedup_key is required"
    assert refused["payload"]["alert"] == {"title": "no key"}


def test_a_sender_that_floods_gets_429_with_retry_after_never_a_silent_drop(siren):
    lambda_client = siren.client("lambda")
    (webhook,) = [
        f
        for f in lambda_client.list_functions()["Functions"]
        if "WEBHOOK_REQUESTS_PER_MINUTE" in f.get("Environment", {}).get("Variables", {})
    ]
    variables = webhook["Environment"]["Variables"]
    limited = {**variables, "WEBHOOK_REQUESTS_PER_MINUTE": "3"}
    lambda_client.update_function_configuration(
        FunctionName=webhook["FunctionName"], Environment={"Variables": limited}
    )
    try:
        # A burst of 8 requests (each refused as malformed, so that only the rate is at stake): a minute's window
        # may turn over during the burst, so at most 6 pass.
        answers = [send(siren, "grafana", b"{not json") for _ in range(8)]
    finally:
        lambda_client.update_function_configuration(
            FunctionName=webhook["FunctionName"], Environment={"Variables": variables}
        )
    throttled = [(answer, headers) for status, answer, headers in answers if status == 429]
    assert len(throttled) >= 2
    assert {status for status, _, _ in answers} == {400, 429}
    for answer, headers in throttled:
        assert 1 <= int(headers["retry-after"]) <= 60
        assert "more than 3 requests a minute from grafana:" in answer["error"]
