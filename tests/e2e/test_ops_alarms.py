"""Siren's own alarms fire for real on the embedded local AWS and reach the operations contacts out of band.

GIVEN Siren deployed locally (time scale 60: a one-minute alarm period lasts a second) with the shipped
``operations`` contacts
WHEN a condition an alarm watches really happens (a message in the dead-letter queue, a run stopped by hand, a
refused alert, a page that cannot be delivered, a function that fails)
THEN the alarm goes to ALARM and the operations phone and email get CloudWatch's notification through the ops
topic, while no Siren incident is opened for it (the pipeline is not its own messenger).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from siren_local.alarms import fire_alarm
from tests.e2e.test_escalation import on_call, phone
from tests.e2e.test_ingest_paths import incidents, post
from tests.support import wait_for

pytestmark = pytest.mark.e2e

OPS_PHONE = "+14255550199"
OPS_EMAIL = "sre-platform@example.com"


def notified(runtime: Any, alarm: str, state: str = "ALARM") -> bool:
    """Whether the ops phone got the SMS and the ops email got the mail for ``Siren-<alarm>`` entering ``state``."""
    subject = f'{state}: "Siren-{alarm}" in US East (N. Virginia)'
    sent = [message for message in runtime.outbox.messages() if message.via == "sns-topic"]
    by_sms = any(m.channel == "sms" and m.to == OPS_PHONE and m.body == subject for m in sent)
    by_email = any(m.channel == "email" and m.to == OPS_EMAIL and m.subject == subject for m in sent)
    return by_sms and by_email


def state_of(runtime: Any, alarm: str) -> str:
    found = runtime.client("cloudwatch").describe_alarms(AlarmNames=[f"Siren-{alarm}"])["MetricAlarms"]
    return str(found[0]["StateValue"])


def test_a_message_in_the_dead_letter_queue_alarms_the_operators_and_opens_no_incident(local_http):
    queue = local_http.stacks["Siren"].outputs["DeadLetterQueueUrl"]
    local_http.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps({"lost": "event"}))

    wait_for(lambda: notified(local_http, "DeadLetters-Ingest"), timeout=60)
    email = next(m for m in local_http.outbox.messages() if m.channel == "email" and m.to == OPS_EMAIL)
    assert "siren dlq list" in email.body  # the alarm's description says what to do
    assert local_http.drain(30)
    assert incidents(local_http) == []


def test_an_escalation_stopped_by_hand_runs_again_says_so_and_alarms_the_operators(local_http):
    fire_alarm(local_http.client, "payments-card-declines", "ALARM", "declines 30% > 5%", None)
    machine = local_http.stacks["Siren"].outputs["EscalationStateMachineArn"]
    sfn = local_http.client("stepfunctions")

    def running() -> list[str]:
        return [e["name"] for e in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]]

    def sweeps() -> int:
        return len([i for i in local_http.lambda_runtime.invocations if "Reconciler" in i.function_name])

    (first,) = wait_for(running, timeout=60)
    incident_id = first.rsplit("-a", 1)[0]
    run = f"{machine.replace(':stateMachine:', ':execution:')}:{first}"
    sfn.stop_execution(executionArn=run, error="ByHand")
    # moto applies a stop when the run's current state returns (a second or two); AWS at once.
    try:
        wait_for(lambda: sfn.describe_execution(executionArn=run)["status"] == "ABORTED", timeout=60)
    except AssertionError:
        # Seen twice under load in a whole-suite run, never alone: say where the run was, for the next reader.
        status = sfn.describe_execution(executionArn=run)["status"]
        events = sfn.get_execution_history(executionArn=run, reverseOrder=True, maxResults=12)["events"]
        kinds = [event["type"] for event in events]
        raise AssertionError(f"run {first} is {status}, not ABORTED; last events: {kinds}") from None
    stopped_at = sweeps()

    # Two sweeps after the stop (two scaled minutes), the escalation runs again under its repair name.
    wait_for(lambda: sweeps() >= stopped_at + 2, timeout=60)
    assert f"{first}-r1" in running()
    table = local_http.stacks["Siren"].outputs["IncidentsTableName"]
    items = local_http.client("dynamodb").scan(TableName=table)["Items"]
    repairs = [
        i["detail"]["S"]
        for i in items
        if i["kind"]["S"] == "timeline"
        and i["pk"]["S"] == f"INC#{incident_id}"
        and i["entry_kind"]["S"] == "escalation_repaired"
    ]
    assert len(repairs) == 1 and f"run {first} ended aborted" in repairs[0]
    wait_for(lambda: notified(local_http, "EscalationRunsAborted"), timeout=60)
    wait_for(lambda: notified(local_http, "EscalationRepairs"), timeout=60)


def test_refused_alerts_and_undeliverable_pages_alarm_the_operators(local_http):
    # Powertools' embedded-metric lines are the only source of these two: the EMF adapter is on the path.
    status, _ = post(local_http, "generic", {"dedup_key": "x", "title": "t"}, token="wrong")
    assert status == 401
    wait_for(lambda: notified(local_http, "AlertsRefused"), timeout=60)
    assert state_of(local_http, "PageDeliveryFailures") == "OK"

    # End User Messaging fails for the first on-call person: the page falls back to SNS, and the failure counts.
    local_http.sms_voice.fail_destinations = {phone(on_call(0)[0])}
    fire_alarm(local_http.client, "payments-latency", "ALARM", "p99 > 2s", None)
    wait_for(lambda: notified(local_http, "PageDeliveryFailures"), timeout=90)


def test_a_failing_function_alarms_the_operators(local_http):
    function = next(
        f["FunctionName"]
        for f in local_http.client("lambda").list_functions()["Functions"]
        if "EscalationStep" in f["FunctionName"]
    )
    # A step the state machine would never send: the function fails, as a bug or a broken dependency would.
    reply = local_http.client("lambda").invoke(FunctionName=function, Payload=b"{}")
    assert reply.get("FunctionError")

    wait_for(lambda: notified(local_http, "Errors-EscalationStep"), timeout=60)


def test_a_users_own_alarm_breached_with_put_metric_opens_an_incident_through_sns(local_http):
    from tests.e2e.test_cli_local import run

    # GIVEN a team's alarm whose action is Siren's alarm topic (the classic SNS path)
    topic = local_http.stacks["Siren"].outputs["AlarmTopicArn"]
    local_http.client("cloudwatch").put_metric_alarm(
        AlarmName="checkout-5xx",
        AlarmDescription="[SEV2] Checkout returns errors",
        Namespace="Shop",
        MetricName="Errors5xx",
        Dimensions=[{"Name": "Service", "Value": "checkout"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    # WHEN a datapoint breaches it
    put = run(
        "local",
        "put-metric",
        "Shop",
        "Errors5xx",
        "25",
        "--dimension",
        "Service=checkout",
        "--port",
        str(local_http.port),
    )
    assert put.exit_code == 0, put.output
    assert "alarms on it: checkout-5xx (" in put.stdout  # its state then: OK, or ALARM if already evaluated
    # THEN the alarm opens one incident: its SNS notification and its EventBridge event (CloudWatch puts both)
    # fold into it, whichever arrives first
    table = local_http.stacks["Siren"].outputs["IncidentsTableName"]

    def delivered_through(source: str) -> bool:
        items = local_http.client("dynamodb").scan(TableName=table)["Items"]
        return any(i["kind"]["S"] == "alert" and i["pk"]["S"].startswith(f"ALERT#{source}#") for i in items)

    # The errors go on, as real ones do: one datapoint can fall in a period the evaluator (one-second periods at time
    # scale 60) has already passed on a loaded machine, and then it breaches nothing.
    last_put = time.monotonic()

    def delivered_both_ways() -> bool:
        nonlocal last_put
        if delivered_through("cloudwatch-sns") and delivered_through("cloudwatch"):
            return True
        if time.monotonic() - last_put > 3:
            last_put = time.monotonic()
            service = [{"Name": "Service", "Value": "checkout"}]
            datapoint = {"MetricName": "Errors5xx", "Dimensions": service, "Value": 25}
            local_http.client("cloudwatch").put_metric_data(Namespace="Shop", MetricData=[datapoint])
        return False

    wait_for(delivered_both_ways, timeout=90, interval=0.5)
    (incident,) = [i for i in incidents(local_http) if i["title"] == "checkout-5xx"]
    assert incident["source"] in ("cloudwatch-sns", "cloudwatch")
    bad = run("local", "put-metric", "Shop", "Errors5xx", "1", "--dimension", "Service", "--port", str(local_http.port))
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr
