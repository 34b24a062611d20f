"""Every alert source family, end to end on the embedded local AWS over HTTP, into the right incident state.

GIVEN the synthesized Siren stack deployed locally (siren.yaml as shipped), WHEN alerts arrive the way AWS and
the senders deliver them, THEN incidents, timelines, lifecycle events and dead letters are what users expect.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from siren_local.alarms import fire_alarm

pytestmark = pytest.mark.e2e
EVENTS = Path(__file__).parent.parent / "events"


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def incidents(runtime: Any) -> list[dict[str, Any]]:
    """Every incident item in the table (a test may scan; request paths never do)."""
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(
        ({k: next(iter(v.values())) for k, v in item.items()} for item in items if item["kind"]["S"] == "incident"),
        key=lambda incident: incident["opened_at"],
    )


def post(
    runtime: Any, path: str, body: Any, token: str | None = "default", raw: bytes | None = None, method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    info = runtime.info()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {info['webhook_token'] if token == 'default' else token}"
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(
        info["webhook_url"].rstrip("/") + "/" + path, data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def bus_listener(runtime: Any) -> str:
    """An SQS queue subscribed to every Siren lifecycle event on the Siren bus."""
    sqs = runtime.client("sqs")
    url = sqs.create_queue(QueueName="lifecycle")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = runtime.client("events")
    bus = runtime.stacks["Siren"].outputs["EventBusName"]
    events.put_rule(Name="all-lifecycle", EventBusName=bus, EventPattern=json.dumps({"source": ["siren.incidents"]}))
    events.put_targets(Rule="all-lifecycle", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def drain_queue(runtime: Any, url: str) -> list[dict[str, Any]]:
    sqs = runtime.client("sqs")
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_cloudwatch_alarm_through_eventbridge_opens_appends_and_recovers(local_http):
    lifecycle = bus_listener(local_http)
    fire_alarm(local_http.client, "checkout-api-5xx", "ALARM", "5xx > 5%", "[SEV1] Checkout errors")
    assert local_http.drain()
    (incident,) = incidents(local_http)
    assert (incident["status"], incident["service"], incident["severity"]) == ("open", "checkout", "SEV1")

    # The same alarm again (a new transition after OK would be a new event; here a redelivered event and a
    # second ALARM event both fold into the incident).
    fire_alarm(local_http.client, "checkout-api-5xx", "OK", None, None)
    assert local_http.drain()
    (incident,) = incidents(local_http)
    assert incident["status"] == "recovered"  # siren.yaml: checkout recovers, a person resolves
    fire_alarm(local_http.client, "checkout-api-5xx", "ALARM", None, None)
    assert local_http.drain()
    (incident,) = incidents(local_http)
    assert incident["status"] == "open" and int(incident["alert_count"]) == 2  # the OK is not an alert

    types = [event["detail-type"] for event in drain_queue(local_http, lifecycle)]
    assert types.count("Incident Opened") == 1 and "Incident Updated" in types


def test_redelivered_eventbridge_event_is_applied_once(local_http):
    sample_event = sample("cw_alarm_state_change_alarm.json")
    sample_event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sample_event["detail"]["state"]["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
    function = next(
        f for f in local_http.client("lambda").list_functions()["Functions"] if "AlarmEvents" in f["FunctionName"]
    )
    for _ in range(3):
        response = local_http.client("lambda").invoke(
            FunctionName=function["FunctionName"], Payload=json.dumps(sample_event)
        )
        assert "FunctionError" not in response, response["Payload"].read()
    (incident,) = incidents(local_http)
    assert int(incident["alert_count"]) == 1


def test_alarm_actions_through_sns_fold_into_the_eventbridge_incident(local_http):
    event = fire_alarm(local_http.client, "payments-latency", "ALARM", "p99 > 2s", None)
    assert local_http.drain()
    message = json.loads(sample("cw_alarm_sns_lambda_event_single_metric.json")["Records"][0]["Sns"]["Message"])
    message.update(
        AlarmName="payments-latency",
        AlarmArn=event["resources"][0],
        NewStateValue="ALARM",
        StateChangeTime=time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime()),
    )
    topic = local_http.stacks["Siren"].outputs["AlarmTopicArn"]
    local_http.client("sns").publish(TopicArn=topic, Message=json.dumps(message))
    assert local_http.drain()
    (incident,) = incidents(local_http)
    assert int(incident["alert_count"]) == 2 and incident["service"] == "payments"


def test_alertmanager_group_alerts_are_handled_one_by_one(local_http):
    body = sample("alertmanager_webhook_v4_firing.json")
    status, reply = post(local_http, "alertmanager", body)
    assert status == 202, reply
    assert reply["accepted"] == len(body["alerts"])
    assert {r["action"] for r in reply["results"]} == {"opened"}
    resolved = copy.deepcopy(body)
    resolved["status"] = "resolved"
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status, reply = post(local_http, "alertmanager", resolved)
    assert status == 202, reply
    assert local_http.drain()
    assert {i["status"] for i in incidents(local_http)} <= {"resolved", "recovered"}
    assert len(incidents(local_http)) == len(body["alerts"])


def test_grafana_and_generic_webhooks(local_http):
    status, reply = post(local_http, "grafana", sample("grafana_webhook_firing.json"))
    assert status == 202 and reply["accepted"] >= 1, reply
    generic = {"dedup_key": "disk-full-db1", "title": "Disk 95% on db1", "service": "search", "severity": "sev2"}
    status, reply = post(local_http, "generic", generic)
    assert status == 202 and reply["results"][0]["action"] == "opened", reply
    status, reply = post(local_http, "generic", generic)  # the same alert, redelivered
    assert status == 202 and reply["results"][0]["action"] in ("appended", "duplicate_delivery")
    by_key = {i["dedup_key"]: i for i in incidents(local_http)}
    assert by_key["generic:disk-full-db1"]["severity"] == "SEV2"


def test_malformed_alarm_event_goes_to_the_dead_letter_queue(local_http):
    events = local_http.client("events")
    events.put_events(
        Entries=[
            {
                "Source": "aws.cloudwatch",
                "DetailType": "CloudWatch Alarm State Change",
                "Detail": json.dumps({"alarmName": 42}),
            }
        ]
    )
    assert local_http.drain()
    sqs = local_http.client("sqs")
    url = local_http.stacks["Siren"].outputs["DeadLetterQueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    kept = json.loads(message["Body"])
    assert kept["source"] == "cloudwatch" and kept["reason"]
    assert kept["payload"]["detail"] == {"alarmName": 42}
    assert incidents(local_http) == []
