"""One definition of a page (siren.domain.pages), and the records that use it agreeing about one incident.

Before: after `make demo` the leadership report said "11 pages to 5 responders" with a responder "(unknown)" (the
chat post counted as a page) while the postmortem of the same incident said "13 pages" (the chat post and the
"paging erin as incident commander" markers counted too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from siren.adapters.dynamodb.incident_items import activity_partition
from siren.config import load_config
from siren.domain.incidents import Incident, IncidentStatus, TimelineEntry, TimelineKind
from siren.domain.pages import as_page, count_pages, is_chat_post
from siren.domain.records import IncidentView
from siren.domain.reports import Period
from siren_cli.gameday_scenarios import first_paged_at_level, load_scenario, scorecard

ROOT = Path(__file__).resolve().parents[2]
OPENED = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
INCIDENT_ID = "INC-20261127-0200-abc123"


def at(seconds: float) -> datetime:
    return OPENED + timedelta(seconds=seconds)


def sent(seconds: float, user: str, channel: str, via: str, ok: bool = True, **extra: object) -> TimelineEntry:
    kind = TimelineKind.PAGED if ok else TimelineKind.PAGE_FAILED
    detail = f"{channel} to {user} via {via}" + ("" if ok else " failed: boom")
    data = {"user": user, "channel": channel, "via": via, "error": None if ok else "boom", **extra}
    return TimelineEntry(at(seconds), kind, "system", detail, data)


def demo_night() -> list[TimelineEntry]:
    """A SEV1 like the demo's: a chat post, roles, an End User Messaging outage for bob (SNS reaches him), a call to
    dave that fails over to a text, and erin whom nothing reaches at one step."""
    return [
        TimelineEntry(at(0), TimelineKind.OPENED, "cloudwatch", "opened"),
        TimelineEntry(at(0.1), TimelineKind.PAGED, "system", "chat via webhook", {"channel": "chat", "via": "webhook"}),
        sent(0.2, "bob", "sms", "eum", ok=False),
        sent(0.2, "bob", "sms", "sns"),
        sent(0.2, "bob", "email", "ses"),
        TimelineEntry(
            at(0.3),
            TimelineKind.PAGED,
            "escalation",
            "paging erin as incident commander",
            {"role": "commander", "user": "erin"},
        ),
        sent(0.3, "erin", "sms", "eum", ok=False, role="commander"),
        sent(0.3, "erin", "sms", "sns", ok=False, role="commander"),
        TimelineEntry(
            at(0.3),
            TimelineKind.PAGED,
            "escalation",
            "paging alice as incident comms",
            {"role": "comms", "user": "alice"},
        ),
        sent(0.3, "alice", "sms", "eum", role="comms"),
        TimelineEntry(at(300), TimelineKind.ESCALATED, "escalation", "escalated to level 2", {"level": 2, "round": 1}),
        sent(300, "dave", "voice", "eum", ok=False),
        sent(300, "dave", "sms", "eum"),
        sent(300, "erin", "sms", "eum", role="commander"),
        TimelineEntry(at(301), TimelineKind.PAGE_FAILED, "escalation", "cannot voice frank: not configured"),
        TimelineEntry(
            at(302),
            TimelineKind.PAGED,
            "system",
            "canary: sms to bob via eum checked, not sent",
            {"user": "bob", "channel": "sms", "via": "eum", "canary": True, "dry_run": True},
        ),
        TimelineEntry(at(360), TimelineKind.ACKNOWLEDGED, "dave", "acknowledged by dave via sms", {"via": "sms"}),
        TimelineEntry(at(3600), TimelineKind.RESOLVED, "dave", "resolved by dave"),
    ]


def test_a_page_is_a_notification_that_reached_a_person():
    counted = count_pages(demo_night())
    assert [(p.user, p.channel, p.via) for p in counted.pages] == [
        ("bob", "sms", "sns"),
        ("bob", "email", "ses"),
        ("alice", "sms", "eum"),
        ("dave", "sms", "eum"),
        ("erin", "sms", "eum"),
    ]
    assert counted.total == 5 and counted.responders == ["bob", "alice", "dave", "erin"]
    assert counted.chat_posts == 1 and counted.chat_failures == 0


def test_a_fallback_that_gets_through_is_one_page_and_one_failed_attempt():
    counted = count_pages([sent(1, "bob", "sms", "eum", ok=False), sent(1, "bob", "sms", "sns")])
    assert (counted.total, len(counted.failed_attempts), counted.unreached) == (1, 1, ())
    call_then_text = count_pages([sent(1, "dave", "voice", "eum", ok=False), sent(1, "dave", "sms", "eum")])
    assert (call_then_text.total, len(call_then_text.failed_attempts), call_then_text.unreached) == (1, 1, ())


def test_a_person_every_attempt_failed_for_is_unreached_not_paged():
    counted = count_pages(demo_night())
    assert len(counted.failed_attempts) == 4  # bob's EUM text, erin's two texts, dave's call
    assert counted.unreached == (("erin", at(0.3)),)  # reached at level 2, but not at 0.3 s


def test_chat_posts_markers_and_dry_runs_are_not_pages():
    chat = TimelineEntry(at(0), TimelineKind.PAGED, "system", "chat", {"channel": "chat", "via": "webhook"})
    marker = TimelineEntry(
        at(0), TimelineKind.PAGED, "escalation", "paging erin", {"role": "commander", "user": "erin"}
    )
    dry = TimelineEntry(
        at(0),
        TimelineKind.PAGED,
        "system",
        "canary",
        {"user": "bob", "channel": "sms", "dry_run": True, "canary": True},
    )
    assert [as_page(entry) for entry in (chat, marker, dry)] == [None, None, None]
    assert is_chat_post(chat) and not is_chat_post(marker)
    failed_chat = TimelineEntry(at(1), TimelineKind.PAGE_FAILED, "system", "chat failed", {"channel": "chat"})
    assert count_pages([chat, failed_chat, marker, dry]).chat_failures == 1


def test_the_order_of_entries_does_not_change_the_counts():
    entries, backwards = count_pages(demo_night()), count_pages(reversed(demo_night()))
    assert set(backwards.pages) == set(entries.pages) and set(backwards.failed_attempts) == set(entries.failed_attempts)
    assert (backwards.unreached, backwards.chat_posts) == (entries.unreached, entries.chat_posts)


# -- the records agree -------------------------------------------------------------------------------------------
@dataclass
class FakeStore:
    """What Reports reads of the store, in memory; the by-activity index holds what the real one indexes."""

    incident: Incident
    timeline: list[TimelineEntry]
    actions: list[object] = field(default_factory=list)

    def iter_opened_between(self, start: datetime, end: datetime) -> Iterator[Incident]:
        if start <= self.incident.opened_at < end:
            yield self.incident

    def iter_activity(self, start: datetime, end: datetime) -> Iterator[tuple[str, TimelineEntry]]:
        for entry in self.timeline:
            if activity_partition(entry) and start <= entry.at < end:
                yield self.incident.id, entry

    def action_items(self) -> Iterator[object]:
        yield from self.actions

    def view(self, incident_id: str) -> IncidentView | None:
        return IncidentView(self.incident, self.timeline) if incident_id == self.incident.id else None


def test_the_report_the_postmortem_and_the_scorecard_count_the_same_pages_of_one_incident():
    from siren.app.reports import Reports

    config = load_config(ROOT / "siren.yaml")
    incident = Incident(
        id=INCIDENT_ID,
        status=IncidentStatus.RESOLVED,
        severity="SEV1",
        title="checkout down",
        service="checkout",
        dedup_key="k",
        source="cloudwatch",
        opened_at=OPENED,
        last_seen_at=OPENED,
        acknowledged_at=at(360),
        acknowledged_by="dave",
        resolved_at=at(3600),
        resolved_by="dave",
    )
    store = FakeStore(incident, demo_night())
    reports = Reports(store, store, config, clock=lambda: OPENED + timedelta(days=1))  # type: ignore[arg-type]

    report = reports.build(Period(OPENED - timedelta(days=1), OPENED + timedelta(days=1)))
    markdown, _ = reports.postmortem(INCIDENT_ID, None, actor="test")
    scenario = load_scenario((ROOT / "gamedays" / "checkout-outage.yaml").read_text(), "x", config.users)
    card = scorecard(scenario, incident, store.timeline, time_scale=60)

    counted = count_pages(store.timeline)
    assert report.report.current.pages_total == counted.total == card.pages == 5
    assert set(report.report.current.pages) == set(counted.responders)  # no "(unknown)" responder
    assert report.report.current.chat_posts == card.chat_posts == 1
    pages_line = re.search(r"- \*\*Pages sent:\*\* (\d+) \(to ([^)]*)\)", markdown)
    assert pages_line is not None
    assert int(pages_line.group(1)) == counted.total
    assert pages_line.group(2).split(", ") == counted.responders
    assert "- **Chat posts:** 1 " in markdown
    assert "- **Failed delivery attempts:** 4 (every attempt failed for: erin at 02:00:00)" in markdown
    assert "to 4 responders; 1 chat post apart" in report.text
    assert first_paged_at_level(store.timeline, 1) == "bob" and first_paged_at_level(store.timeline, 2) == "dave"
