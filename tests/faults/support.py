"""What the fault matrix's scenarios share: who was paged for an incident, on which channel and in what order, read
from the incident's timeline (what Siren says it did) and the outbox (what the providers really sent).

"When" is asked in scaled time by order, never by the wall clock: an entry before the incident's first
``escalated`` entry belongs to level 1, a page is in the outbox before another, a failure precedes its fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siren_local.alarms import fire_alarm
from tests.e2e.test_escalation import CONFIG, on_call, phone
from tests.support import wait_for

__all__ = ["CONFIG", "on_call", "phone"]

# The matrix's time scale (tests/faults/conftest.py): a 5-minute escalation level lasts half a wall second.
SCALE = 600


@dataclass(frozen=True)
class Entry:
    kind: str
    detail: str
    data: dict[str, Any]
    at: datetime

    @property
    def user(self) -> str | None:
        return self.data.get("user")

    def is_page(self, user: str, channel: str, via: str | None = None, ok: bool = True) -> bool:
        return (
            self.kind == ("paged" if ok else "page_failed")
            and self.user == user
            and self.data.get("channel") == channel
            and (via is None or self.data.get("via") == via)
        )


def table(runtime: Any) -> str:
    return str(runtime.stacks["Siren"].outputs["IncidentsTableName"])


def timeline(runtime: Any, incident_id: str) -> list[Entry]:
    """The incident's timeline, in the order it happened (one Query of its partition, as the store reads it)."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "TableName": table(runtime),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :tl)",
        "ExpressionAttributeValues": {":pk": {"S": f"INC#{incident_id}"}, ":tl": {"S": "TL#"}},
        "ConsistentRead": True,
    }
    while True:
        page = runtime.client("dynamodb").query(**query)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items.sort(key=lambda item: item["sk"]["S"])
    return [
        Entry(
            item["entry_kind"]["S"],
            item["detail"]["S"],
            json.loads(item["data"]["S"]) if "data" in item else {},
            datetime.fromisoformat(item["at"]["S"]),
        )
        for item in items
    ]


def incident_titled(runtime: Any, title: str) -> dict[str, Any]:
    """The one incident with this title (each scenario's alarm has a name of its own), once it is open."""

    def found() -> list[dict[str, Any]]:
        items = runtime.client("dynamodb").scan(
            TableName=table(runtime),
            FilterExpression="kind = :k AND title = :t",
            ExpressionAttributeValues={":k": {"S": "incident"}, ":t": {"S": title}},
            ConsistentRead=True,
        )["Items"]
        return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]

    (incident,) = wait_for(found, timeout=60)
    incident["id"] = incident["pk"].removeprefix("INC#")
    return incident


def open_incident(runtime: Any, alarm: str, reason: str = "injected fault scenario") -> dict[str, Any]:
    """Fire ``alarm`` (its name decides the service and so the policy: see siren.yaml) and return its incident."""
    fire_alarm(runtime.client, alarm, "ALARM", reason, None)
    return incident_titled(runtime, alarm)


def sent(
    runtime: Any, incident: dict[str, Any], to: str | None = None, channel: str | None = None, via: str | None = None
) -> list[dict[str, Any]]:
    """What the providers really sent for this incident (its id is in every text and email subject; a call says
    its title), optionally to one address, on one channel, by one provider."""

    def about(message: dict[str, Any]) -> bool:
        text = f"{message.get('subject') or ''} {message['body']}"
        return incident["id"] in text or (message["channel"] == "voice" and incident["title"] in text)

    return [
        m
        for m in sent_messages(runtime)
        if about(m)
        and (to is None or m["to"] == to)
        and (channel is None or m["channel"] == channel)
        and (via is None or m["via"] == via)
    ]


def sent_messages(runtime: Any) -> list[dict[str, Any]]:
    return list(runtime.outbox_json())


def level_one(entries: list[Entry]) -> list[Entry]:
    """The entries before the escalation first moved on (level 1's, in scaled time)."""
    for index, entry in enumerate(entries):
        if entry.kind == "escalated":
            return entries[:index]
    return entries


def first_index(entries: list[Entry], predicate: Any) -> int:
    return next(index for index, entry in enumerate(entries) if predicate(entry))


def end_escalation(runtime: Any, alarm: str, incident_id: str) -> None:
    """Clear the faults and resolve the scenario's incident (its alarm goes back to OK), and wait until its runs
    have ended: the next scenario on the shared runtime starts from quiet."""
    runtime.faults.clear()
    fire_alarm(runtime.client, alarm, "OK", "scenario over", None)
    sfn = runtime.client("stepfunctions")
    machine = runtime.stacks["Siren"].outputs["EscalationStateMachineArn"]

    def ended() -> bool:
        runs = [e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if incident_id in e["name"]]
        return bool(runs) and all(run["status"] != "RUNNING" for run in runs)

    wait_for(ended, timeout=90)
    assert runtime.drain(60)


def quiesce(runtime: Any) -> None:
    """After a scenario, whatever happened in it: no fault, every alarm it fired back to OK (its incident resolved),
    no escalation running. A scenario that failed halfway leaves the shared runtime as quiet as one that passed."""
    runtime.faults.clear()
    cloudwatch = runtime.client("cloudwatch")
    for alarm in cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"]:
        if not alarm["AlarmName"].startswith("Siren-"):  # Siren's own alarms settle by themselves
            fire_alarm(runtime.client, alarm["AlarmName"], "OK", "scenario over", None)
    from tests.e2e.test_ingest_paths import incidents, post

    for incident in incidents(runtime):
        if incident["status"] != "resolved" and incident.get("source") == "generic":
            key = incident["dedup_key"].removeprefix("generic:")  # the store keeps the source's namespace
            post(runtime, "generic", {"dedup_key": key, "status": "resolved"})
    sfn = runtime.client("stepfunctions")
    machine = runtime.stacks["Siren"].outputs["EscalationStateMachineArn"]
    wait_for(lambda: not sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"], timeout=90)
    assert runtime.drain(60)


def execution_history(runtime: Any, incident_id: str) -> list[dict[str, Any]]:
    sfn = runtime.client("stepfunctions")
    machine = runtime.stacks["Siren"].outputs["EscalationStateMachineArn"]
    events: list[dict[str, Any]] = []
    for run in sfn.list_executions(stateMachineArn=machine)["executions"]:
        if incident_id in run["name"]:
            events += sfn.get_execution_history(executionArn=run["executionArn"], maxResults=1000)["events"]
    return events
