"""GIVEN the synthesized templates deployed on the embedded local AWS over HTTP, WHEN events flow, THEN the
real handler code runs and state lands where AWS would put it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from siren_local.alarms import fire_alarm
from tests.support import PROBE_STACK, wait_for

pytestmark = pytest.mark.e2e


def test_alarm_event_rule_invokes_ingest_function_which_writes_dynamodb(local_http):
    outputs = local_http.stacks["Siren"].outputs
    event = fire_alarm(local_http.client, "payments-latency", "ALARM", "p99 > 2s", "Payments p99 latency")
    assert local_http.drain(30)

    item = local_http.client("dynamodb").get_item(
        TableName=outputs["IncidentsTableName"],
        Key={"pk": {"S": f"ALERT#cloudwatch#{event['id']}"}, "sk": {"S": "ALERT"}},
    )["Item"]
    stored = json.loads(item["payload"]["S"])
    assert stored["detail-type"] == "CloudWatch Alarm State Change"
    assert stored["detail"]["alarmName"] == "payments-latency"
    assert stored["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert stored["resources"] == [event["resources"][0]]
    assert int(item["expires_at"]["N"]) > time.time()
    ingest = [i for i in local_http.lambda_runtime.invocations if "AlarmEvents" in i.function_name]
    assert len(ingest) == 1 and not ingest[0].errored and ingest[0].asynchronous


def test_disabled_rule_delivers_nothing(local_http):
    events = local_http.client("events")
    rules = events.list_rules(EventBusName="default")["Rules"]
    alarm_rule = next(rule["Name"] for rule in rules if "AlarmStateChange" in rule["Name"])
    events.disable_rule(Name=alarm_rule)

    fire_alarm(local_http.client, "disk-full", "ALARM", None, None)
    assert local_http.drain(10)
    assert [i for i in local_http.lambda_runtime.invocations if "AlarmEvents" in i.function_name] == []

    events.enable_rule(Name=alarm_rule)
    fire_alarm(local_http.client, "disk-full", "OK", None, None)
    assert local_http.drain(10)
    assert len([i for i in local_http.lambda_runtime.invocations if "AlarmEvents" in i.function_name]) == 1


def test_step_functions_invoke_scaled_wait_and_callback(bare_http, probe_assembly: Path):
    stack = bare_http.deploy(probe_assembly, PROBE_STACK)
    sfn = bare_http.client("stepfunctions")
    table = stack.outputs["TableName"]
    ddb = bare_http.client("dynamodb")

    execution = sfn.start_execution(
        stateMachineArn=stack.outputs["StateMachineArn"], name="probe-1", input=json.dumps({"key": "k1"})
    )["executionArn"]

    def token() -> str | None:
        item = ddb.get_item(TableName=table, Key={"pk": {"S": "probe#k1"}, "sk": {"S": "token"}}).get("Item")
        return item["token"]["S"] if item else None

    # The Wait state is an hour long; at time scale 600 it is six seconds.
    task_token = wait_for(token, timeout=60)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=task_token, output=json.dumps({"acknowledged": True}))
    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", timeout=30)

    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    history = [event["type"] for event in sfn.get_execution_history(executionArn=execution)["events"]]
    assert "WaitStateExited" in history
    assert history.count("LambdaFunctionSucceeded") + history.count("TaskSucceeded") >= 2
    recorded = ddb.get_item(TableName=table, Key={"pk": {"S": "probe#k1"}, "sk": {"S": "record"}})
    assert "Item" in recorded
