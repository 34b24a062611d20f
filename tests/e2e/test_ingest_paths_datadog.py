"""Datadog webhooks and CloudWatch's Lambda alarm actions, end to end on the embedded local AWS over HTTP.

GIVEN the synthesized Siren stack deployed locally (siren.yaml as shipped)
WHEN a Datadog monitor triggers, re-triggers and recovers through <WebhookUrl>datadog, and a CloudWatch alarm
arrives both on the bus and by invoking the AlarmActionFunctionArn function
THEN each is one incident that its later deliveries join, and a wrong Datadog payload is refused by field.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.e2e.test_ingest_paths import incidents, post, sample

pytestmark = pytest.mark.e2e


def test_a_datadog_monitor_triggers_retriggers_and_recovers_as_one_incident(local_http):
    triggered = sample("datadog_webhook_siren_triggered.json")

    status, opened = post(local_http, "datadog", triggered)
    assert status == 202 and opened["results"][0]["action"] == "opened", opened
    incident_id = opened["results"][0]["incident_id"]

    retriggered = {**triggered, "id": "7709842341230617555", "alert_transition": "Re-Triggered"}
    status, again = post(local_http, "datadog", retriggered)
    assert status == 202 and again["results"][0] == {**again["results"][0], "action": "appended"}, again
    assert again["results"][0]["incident_id"] == incident_id

    status, recovered = post(local_http, "datadog", sample("datadog_webhook_siren_recovered.json"))
    assert status == 202 and recovered["results"][0]["incident_id"] == incident_id, recovered
    assert local_http.drain()

    (incident,) = incidents(local_http)
    assert incident["status"] in ("resolved", "recovered")
    assert (incident["service"], incident["severity"]) == ("checkout", "SEV2")  # the service: tag, P2


def test_a_wrong_datadog_payload_is_refused_naming_the_field_and_writes_no_incident(local_http):
    body = {**sample("datadog_webhook_siren_triggered.json"), "alert_transition": "Paused"}

    status, reply = post(local_http, "datadog", body)

    assert status == 400 and reply["error"].startswith("alert_transition must be one of"), reply
    assert incidents(local_http) == []


def invoke_alarm_action(runtime: Any, payload: Any) -> dict[str, Any]:
    arn = runtime.stacks["Siren"].outputs["AlarmActionFunctionArn"]
    response = runtime.client("lambda").invoke(FunctionName=arn, Payload=json.dumps(payload))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


def test_a_cloudwatch_alarm_on_the_bus_and_as_a_lambda_action_is_one_incident(local_http):
    event = sample("cw_alarm_state_change_alarm.json")
    local_http.client("events").put_events(
        Entries=[
            {
                "Source": "aws.cloudwatch",
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
            }
        ]
    )
    assert local_http.drain()
    (opened,) = incidents(local_http)

    direct = invoke_alarm_action(
        local_http,
        {
            "source": "aws.cloudwatch",
            "alarmArn": event["resources"][0],
            "accountId": event["account"],
            "time": event["detail"]["state"]["timestamp"],
            "region": event["region"],
            "alarmData": copy.deepcopy(event["detail"]),
        },
    )

    assert direct["results"][0]["action"] == "appended" and direct["results"][0]["incident_id"] == opened["id"]
    assert local_http.drain()
    assert [i["id"] for i in incidents(local_http)] == [opened["id"]]


def test_sirens_own_alarm_invoking_the_alarm_action_function_is_ignored(local_http):
    payload = sample("cw_alarm_lambda_action_single_metric.json")
    payload["alarmData"]["alarmName"] = "Siren-DeadLettersWaiting"

    answer = invoke_alarm_action(local_http, payload)

    assert "ignored" in answer and incidents(local_http) == []
