"""Reports, postmortems and action items on the embedded local AWS over HTTP.

GIVEN a seeded history whose figures are computed by hand below,
WHEN the weekly schedule fires (the deployed EventBridge Scheduler schedule, the deployed report function),
THEN the email in the outbox carries those figures; a postmortem draft is written, stored and linked; action
items round-trip through the CLI and an overdue one shows in the report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_cli_incidents import siren
from tests.e2e.test_escalation import wait_for

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC).replace(microsecond=0)

# (id, severity, service, opened, minutes to ack, minutes to resolve)
HISTORY = [
    ("INC-SEED-A", "SEV1", "checkout", NOW - timedelta(days=3), 2, 60),
    ("INC-SEED-B", "SEV2", "checkout", NOW - timedelta(days=2), 4, 30),
    ("INC-SEED-C", "SEV2", "payments", NOW - timedelta(days=1), 10, 120),
    ("INC-SEED-D", "SEV3", "search", NOW - timedelta(hours=5), None, None),
    ("INC-SEED-OLD", "SEV2", "checkout", NOW - timedelta(days=10), 8, 90),  # the previous period
]
# By hand, for the last 7 days: 4 incidents; MTTA over A, B, C = (2 + 4 + 10) / 3 = 5.33 min, median 4 min;
# MTTR over A, B, C = (60 + 30 + 120) / 3 = 70 min = 1 h 10 min, median 60 min. C escalated to level 2.


def seed(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from siren.adapters.dynamodb import DynamoIncidents
    from siren.domain.incidents import Incident, IncidentStatus, Outcome, TimelineEntry, TimelineKind

    monkeypatch.setenv("AWS_ENDPOINT_URL", runtime.endpoint_url)
    incidents = DynamoIncidents(runtime.stacks["Siren"].outputs["IncidentsTableName"])
    for incident_id, severity, service, opened, ack, resolve in HISTORY:
        incident = Incident(
            id=incident_id,
            severity=severity,
            service=service,
            title=f"seeded {incident_id}",
            dedup_key=incident_id,
            source="manual",
            opened_at=opened,
            last_seen_at=opened,
            status=IncidentStatus.RESOLVED if resolve else IncidentStatus.OPEN,
            acknowledged_at=opened + timedelta(minutes=ack) if ack else None,
            acknowledged_by="alice" if ack else None,
            resolved_at=opened + timedelta(minutes=resolve) if resolve else None,
        )
        incidents.apply(Outcome("opened", "seeded", incident), None)
    a_opened, c_opened = HISTORY[0][3], HISTORY[2][3]
    incidents.add_timeline(
        "INC-SEED-A",
        [
            TimelineEntry(
                a_opened,
                TimelineKind.PAGED,
                "system",
                "sms to alice via sns",
                {"user": "alice", "channel": "sms", "via": "sns"},
            ),
            TimelineEntry(
                a_opened, TimelineKind.PAGED, "system", "voice to alice", {"user": "alice", "channel": "voice"}
            ),
            # Not pages (siren.domain.pages): the team's chat post, and the marker before a role's own pages.
            TimelineEntry(
                a_opened, TimelineKind.PAGED, "system", "chat via webhook", {"channel": "chat", "via": "webhook"}
            ),
            TimelineEntry(
                a_opened,
                TimelineKind.PAGED,
                "escalation",
                "paging erin as incident commander",
                {"role": "commander", "user": "erin"},
            ),
        ],
    )
    incidents.add_timeline(
        "INC-SEED-C",
        [
            TimelineEntry(
                c_opened + timedelta(minutes=5),
                TimelineKind.ESCALATED,
                "escalation",
                "escalated to level 2",
                {"level": 2, "round": 1},
            ),
            TimelineEntry(
                c_opened + timedelta(minutes=5),
                TimelineKind.PAGED,
                "system",
                "sms to bob",
                {"user": "bob", "channel": "sms"},
            ),
        ],
    )


def test_scheduled_report_postmortem_and_action_items(local_http, monkeypatch, tmp_path):
    seed(local_http, monkeypatch)

    # Action items round-trip; one is overdue.
    added = siren(
        local_http,
        "actions",
        "add",
        "INC-SEED-A",
        "--title",
        "Alert on card declines",
        "--owner",
        "alice",
        "--due",
        (NOW - timedelta(days=1)).date().isoformat(),
    )
    overdue_id = added.stdout.split()[0]
    siren(
        local_http,
        "actions",
        "add",
        "INC-SEED-B",
        "--title",
        "Runbook for rollbacks",
        "--owner",
        "bob",
        "--due",
        (NOW + timedelta(days=14)).date().isoformat(),
    )
    listed = json.loads(siren(local_http, "actions", "list", "--json").stdout)
    assert [(a["title"], a["overdue"]) for a in listed] == [
        ("Alert on card declines", True),
        ("Runbook for rollbacks", False),
    ]
    overdue = json.loads(siren(local_http, "actions", "list", "--overdue", "--json").stdout)
    assert [a["id"] for a in overdue] == [overdue_id]

    # The deployed weekly schedule fires the deployed report function.
    scheduler = local_http.client("scheduler")
    names = [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    (weekly,) = [n for n in names if "Weekly" in n]
    local_http.scheduler.fire(weekly)
    assert local_http.drain(60)
    emails = wait_for(
        lambda: [m for m in local_http.outbox_json() if m["channel"] == "email" and m["to"] == "cto@example.com"]
    )
    (email,) = emails
    subject, body = email["subject"], email["body"]
    assert "4 incidents" in subject and "MTTA 5 min" in subject and "MTTR 1 h 10 min" in subject, subject
    assert "Alert on card declines" in body and "alice" in body  # the overdue item, its owner
    # The chat post is counted apart, not as a page to "(unknown)" (who else is paged depends on today's on-call:
    # the open seeded incident escalates for real).
    pages_detail = body[body.index(">Pages<br>") : body.index(">Pages<br>") + 150]
    assert "; 1 chat post apart" in pages_detail and "(unknown)" not in body, pages_detail
    assert "vp-engineering@example.com" in {m["to"] for m in local_http.outbox_json() if m["channel"] == "email"}

    # The postmortem draft: written, stored beside the incident, linked from its timeline.
    out = tmp_path / "pm.md"
    siren(local_http, "postmortem", "INC-SEED-A", "--out", str(out))
    draft = out.read_text()
    assert draft.startswith("# Postmortem (draft)") and "INC-SEED-A" in draft and "Alert on card declines" in draft
    # The same definition of a page as the report's: alice's two, not the chat post or the commander's marker.
    assert "- **Pages sent:** 2 (to alice)" in draft and "- **Chat posts:** 1 " in draft
    bucket = local_http.stacks["Siren"].outputs["ArtifactsBucketName"]
    stored = local_http.client("s3").get_object(Bucket=bucket, Key="postmortems/INC-SEED-A.md")["Body"].read()
    assert stored.decode() == draft
    shown = json.loads(siren(local_http, "incidents", "show", "INC-SEED-A", "--json").stdout)
    assert any(
        e["kind"] == "postmortem_written" and f"s3://{bucket}/postmortems/INC-SEED-A.md" in e["detail"]
        for e in shown["timeline"]
    )

    siren(local_http, "actions", "done", overdue_id)
    assert json.loads(siren(local_http, "actions", "list", "--overdue", "--json").stdout) == []


def test_report_bad_input_is_a_clear_error_and_sends_nothing(local_http):
    bad = siren(local_http, "report", "--period", "2026-11-20..2026-11-01", check=False)
    assert bad.returncode == 2 and "before it starts" in bad.stderr
    bad = siren(local_http, "postmortem", "INC-nope", check=False)
    assert bad.returncode == 2 and "no incident INC-nope" in bad.stderr
    bad = siren(
        local_http, "actions", "add", "INC-nope", "--title", "x", "--owner", "a", "--due", "2030-01-01", check=False
    )
    assert bad.returncode == 2 and "no incident INC-nope" in bad.stderr
    empty = siren(local_http, "report", "--period", "2020-01-01..2020-01-07")
    assert "No incidents in this period" in empty.stdout
    assert [m for m in local_http.outbox_json() if m["channel"] == "email"] == []
