"""A forged lifecycle event on the Siren bus does not end an escalation: the handler asks the store.

GIVEN the shipped siren.yaml team on the embedded local AWS over HTTP (time scale 600)
WHEN a SEV1 alarm pages level 1 and someone puts "Incident Acknowledged" for it on the Siren bus with the events
API (moto does not enforce the bus's resource policy: this is what a principal the policy failed to stop sees)
THEN the incident stays open and level 2 is paged when its time comes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from siren_local.alarms import fire_alarm
from tests.e2e.test_escalation import incident_of, messages_to, on_call
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def held_wait(runtime: Any, incident_id: str) -> bool:
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    key = {"pk": {"S": f"INC#{incident_id}"}, "sk": {"S": "ESC#TOKEN"}}
    item = runtime.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})
    return "token" in item


def test_a_forged_acknowledgement_on_the_bus_does_not_stop_the_escalation(local_http_fast: Any) -> None:
    runtime = local_http_fast
    fire_alarm(runtime.client, "payments-card-declines", "ALARM", "declines 30% > 5%", None)  # SEV1 service
    first = on_call(0)[0]
    wait_for(lambda: messages_to(runtime, first, "sms"))
    incident = incident_of(runtime)
    assert incident["status"] == "open"
    incident_id = incident["pk"].removeprefix("INC#")
    wait_for(lambda: held_wait(runtime, incident_id))  # level 1 waits for an acknowledgement: the forger's target

    forged = {
        "incident_id": incident_id,
        "status": "acknowledged",
        "severity": "SEV1",
        "version": 99,
        "acknowledged_by": "mallory",
        "via": "sms",
        "opened_at": datetime.now(UTC).isoformat(),
    }
    bus = runtime.stacks["Siren"].outputs["EventBusName"]
    entry = {"EventBusName": bus, "Source": "siren.incidents", "DetailType": "Incident Acknowledged"}
    answer = runtime.client("events").put_events(Entries=[{**entry, "Detail": json.dumps(forged)}])
    assert answer["FailedEntryCount"] == 0

    for user in on_call(1):
        wait_for(lambda user=user: messages_to(runtime, user, "sms"), timeout=30)
    assert incident_of(runtime)["status"] == "open"
