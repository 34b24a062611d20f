"""PagerDuty change events through the deployed stack: what changed just before an incident is in its page.

GIVEN the synthesized Siren stack deployed on the embedded local AWS over HTTP (siren.yaml as shipped: the PagerDuty
integration prometheus-payments is the payments service), and the integration's routing key,
WHEN PagerDuty's own client sends a change event ("Deployed payments v42") and, a moment later, a critical trigger
THEN the page email to the on-call person lists the change under "What changed just before this", and the
incident's timeline has the change once.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.test_escalation import CONFIG, on_call
from tests.e2e.test_pagerduty_api import client, routing_key
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def change_entries(runtime: Any) -> list[str]:
    """The details of the table's timeline entries of kind ``change`` (a test may scan; request paths never do)."""
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    return [i["detail"]["S"] for i in items if i["kind"]["S"] == "timeline" and i["entry_kind"]["S"] == "change"]


def test_the_change_sent_just_before_a_trigger_is_in_its_page_email_and_on_its_timeline(local_http_fast):
    events = client(local_http_fast, routing_key(local_http_fast))
    summary = f"Deployed payments v42 <canary> {uuid.uuid4().hex[:6]}"
    events.send_change_event(
        payload={"summary": summary, "source": "ci", "custom_details": {"build": 42}},
        links=[{"href": "https://ci.example/builds/42", "text": "build 42"}],
    )
    events.trigger("Card declines above 30%", "payments-api-1", dedup_key="declines-after-deploy", severity="critical")

    addresses = {CONFIG.users[user].email for user in on_call(0)} - {None}
    assert addresses, "someone on call at level 1 is paged by email (siren.yaml)"
    emails = wait_for(
        lambda: [
            m
            for m in local_http_fast.outbox_json()
            if m["channel"] == "email" and m["to"] in addresses and (m.get("subject") or "").startswith("[SEV1]")
        ]
    )
    body = str(emails[0]["body"])
    assert "What changed just before this" in body
    assert summary in body or summary.replace("<", "&lt;").replace(">", "&gt;") in body

    assert change_entries(local_http_fast) == [f"change: {summary} (ci)"]  # the first step wrote it before paging
