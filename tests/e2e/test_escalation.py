"""The escalation on the embedded local AWS over HTTP: the deployed state machine, the real page functions.

GIVEN the shipped siren.yaml team (time scale 600: a minute of policy delay is a tenth of a second),
WHEN a SEV1 alarm fires, THEN the primary is paged by SMS and voice, the commander and comms leads are paged in
parallel, level 2 follows when nobody acknowledges, an SMS reply with the code acknowledges and stops it, a
reply from a number that was not paged changes nothing, and a failing SMS channel falls back.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.config import load_config
from siren.domain.oncall import resolve_targets
from siren_local.alarms import fire_alarm
from siren_local.inbound_sms import publish_sms_reply
from tests.support import wait_for

pytestmark = pytest.mark.e2e
CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")


def phone(user: str) -> str:
    return CONFIG.users[user].phone


def on_call(level: int, severity: str = "SEV1") -> list[str]:
    policy = CONFIG.policy_for_severity(severity)
    return list(resolve_targets(policy.levels[level].targets, CONFIG, datetime.now(UTC)))


def role_users() -> list[str]:
    roles = CONFIG.roles
    assert roles is not None
    return [
        u
        for target in (roles.commander, roles.comms)
        if target
        for u in resolve_targets([target], CONFIG, datetime.now(UTC))
    ]


def messages_to(runtime: Any, user: str, channel: str) -> list[dict[str, Any]]:
    return [m for m in runtime.outbox_json() if m["to"] == phone(user) and m["channel"] == channel]


def incident_of(runtime: Any) -> dict[str, Any]:
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    (incident,) = [i for i in items if i["kind"]["S"] == "incident"]
    return {k: next(iter(v.values())) for k, v in incident.items()}


def test_sev1_pages_primary_and_roles_escalates_and_stops_on_sms_ack(local_http_fast):
    primary = on_call(0)
    fire_alarm(local_http_fast.client, "payments-card-declines", "ALARM", "declines 30% > 5%", None)  # SEV1 service

    first = primary[0]
    wait_for(lambda: messages_to(local_http_fast, first, "sms") and messages_to(local_http_fast, first, "voice"))
    for user in role_users():
        wait_for(lambda user=user: messages_to(local_http_fast, user, "sms"))
    sms = messages_to(local_http_fast, first, "sms")[0]
    assert sms["via"] == "end-user-messaging" and len(sms["body"]) <= 160
    code = re.search(r"ACK (\d{6})", sms["body"]).group(1)  # type: ignore[union-attr]

    # Nobody acknowledges: level 2 is paged after the (time-scaled) delay.
    for user in on_call(1):
        wait_for(lambda user=user: messages_to(local_http_fast, user, "sms"))

    # A number that was not paged cannot acknowledge.
    topic = local_http_fast.stacks["Siren"].outputs["InboundSmsTopicArn"]
    publish_sms_reply(local_http_fast.client, topic, "+14255559999", f"ACK {code}")
    assert local_http_fast.drain()
    assert incident_of(local_http_fast)["status"] == "open"
    assert any("not paged" in m["body"] for m in local_http_fast.outbox_json() if m["to"] == "+14255559999")

    # The primary replies with the code: acknowledged, and the escalation stops.
    publish_sms_reply(local_http_fast.client, topic, phone(first), f"ack  {code}")
    wait_for(lambda: incident_of(local_http_fast)["status"] == "acknowledged")
    sfn = local_http_fast.client("stepfunctions")
    machine = local_http_fast.stacks["Siren"].outputs["EscalationStateMachineArn"]
    wait_for(lambda: all(e["status"] != "RUNNING" for e in sfn.list_executions(stateMachineArn=machine)["executions"]))
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert execution["status"] == "SUCCEEDED"
    pages_after_ack = len(local_http_fast.outbox_json())
    time.sleep(1.0)  # at time scale 600 this is ten minutes of policy time: nothing more may be sent
    assert len(local_http_fast.outbox_json()) == pages_after_ack
    assert incident_of(local_http_fast)["acknowledged_by"] == first


def test_failing_sms_channel_falls_back_and_escalation_continues(local_http_fast):
    primary = on_call(0)[0]
    local_http_fast.sms_voice.fail_destinations = {phone(primary)}
    fire_alarm(local_http_fast.client, "payments-latency", "ALARM", "p99 > 2s", None)
    wait_for(lambda: [m for m in messages_to(local_http_fast, primary, "sms") if m["via"] == "sns"])
    for user in on_call(1):
        wait_for(lambda user=user: messages_to(local_http_fast, user, "sms"))
    table = local_http_fast.stacks["Siren"].outputs["IncidentsTableName"]

    def timeline_details() -> list[str]:
        items = local_http_fast.client("dynamodb").scan(TableName=table)["Items"]
        return [i["detail"]["S"] for i in items if i["kind"]["S"] == "timeline"]

    # The roles page may reach the same people first, so wait for the timeline rather than read it once.
    wait_for(lambda: any("via end-user-messaging failed" in d for d in timeline_details()))
    wait_for(lambda: any("sms to" in d and "via sns" in d for d in timeline_details()))


def test_raising_the_severity_restarts_the_escalation_and_retires_the_old_one(local_http_fast):
    from tests.e2e.test_cli_incidents import siren

    declared = siren(
        local_http_fast, "declare", "--title", "Search is slow", "--severity", "SEV3", "--service", "search", "--json"
    )
    incident_id = json.loads(declared.stdout)["id"]
    sfn = local_http_fast.client("stepfunctions")
    machine = local_http_fast.stacks["Siren"].outputs["EscalationStateMachineArn"]

    def executions() -> dict[str, str]:
        return {e["name"]: e["status"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}

    wait_for(lambda: executions().get(f"{incident_id}-a1") == "RUNNING")
    siren(local_http_fast, "severity", incident_id, "SEV1")
    # The raise starts attempt <version> (the incident's version after the change) and ends attempt 1.
    wait_for(lambda: len(executions()) == 2)
    restarted = next(name for name in executions() if name != f"{incident_id}-a1")
    wait_for(lambda: executions()[f"{incident_id}-a1"] == "SUCCEEDED")
    assert executions()[restarted] == "RUNNING"
    # SEV1 mobilizes the roles, which SEV3 did not.
    for user in role_users():
        wait_for(lambda user=user: messages_to(local_http_fast, user, "sms"))

    siren(local_http_fast, "ack", incident_id)
    wait_for(lambda: set(executions().values()) == {"SUCCEEDED"})
    assert incident_of(local_http_fast)["status"] == "acknowledged"
