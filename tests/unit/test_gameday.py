"""Game-day scenarios: checked on load with errors that name the field; the scorecard counts from the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from siren.domain.incidents import Incident, IncidentStatus, TimelineEntry, TimelineKind
from siren.domain.parsers.generic import parse_generic
from siren.domain.signals import ParseError
from siren_cli.gameday_scenarios import ScenarioError, first_paged_at_level, load_scenario, scorecard

USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
SHIPPED = Path(__file__).resolve().parents[2] / "gamedays"
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_scenarios_load(path):
    scenario = load_scenario(path.read_text(), str(path), USERS)
    assert scenario.steps[0].action == "fire" and scenario.expect


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nparticipants: [zed]\nsteps: [{at: 0, fire: true}]", "unknown user 'zed'"),
        ("name: x\nparticipants: [bob]\nsteps: [{at: 0, ack: {level: 2}}]", "steps[0] must fire"),
        ("name: x\nparticipants: [bob]\nsteps: [{at: 0, fire: true, resolve: true}]", "exactly one of"),
        ("name: x\nparticipants: [bob]\nsteps: [{at: 0, fire: true}]\nexpect: {mttr: 3}", "expect.mttr: unknown"),
        ("name: x\nparticipants: [bob]\nsteps: [{at: 0, fire: true}]\nteam: a", "unknown field 'team'"),
    ],
)
def test_bad_scenarios_name_the_problem(text, message):
    with pytest.raises(ScenarioError, match=r"drill\.yaml") as raised:
        load_scenario(text, "drill.yaml", USERS)
    assert message in str(raised.value)


def entry(minutes: float, kind: TimelineKind, **data: object) -> TimelineEntry:
    return TimelineEntry(T0 + timedelta(minutes=minutes), kind, "system", str(kind), data)


def test_scorecard_counts_from_the_timeline_in_drill_time():
    scenario = load_scenario((SHIPPED / "checkout-outage.yaml").read_text(), "x", USERS)
    incident = Incident(
        id="INC-1",
        status=IncidentStatus.ACKNOWLEDGED,
        severity="SEV1",
        title="t",
        service="s",
        dedup_key="k",
        source="generic",
        opened_at=T0,
        last_seen_at=T0,
        acknowledged_at=T0 + timedelta(seconds=7),
        acknowledged_by="dave",
        drill=True,
    )
    timeline = [
        entry(0.005, TimelineKind.PAGED, channel="chat", via="webhook"),  # not a page: counted apart
        entry(0.01, TimelineKind.PAGED, user="alice", channel="sms"),
        entry(0.01, TimelineKind.PAGED, user="erin", channel="sms", role="comms"),
        entry(0.02, TimelineKind.PAGE_FAILED, skipped=["zed"], drill=True),
        entry(0.09, TimelineKind.ESCALATED, level=2),
        entry(0.09, TimelineKind.PAGED, user="dave", channel="sms"),
    ]
    card = scorecard(scenario, incident, timeline, time_scale=60)
    assert first_paged_at_level(timeline, 1) == "alice" and first_paged_at_level(timeline, 2) == "dave"
    assert (card.first_page_seconds, card.acknowledge_minutes, card.levels_reached) == (0.6, 7.0, 2)
    assert (card.pages, card.failures, card.skipped_non_participants) == (3, 0, 1)
    assert (card.chat_posts, card.failed_attempts) == (1, 0)
    assert card.passed


def test_a_drill_alert_needs_participants_and_participants_need_a_drill():
    base = {"dedup_key": "d", "title": "t"}
    (signal,) = parse_generic({**base, "drill": True, "participants": ["bob"]}, T0)
    assert signal.drill and signal.participants == ("bob",)
    with pytest.raises(ParseError, match="participants is required for a drill"):
        parse_generic({**base, "drill": True}, T0)
    with pytest.raises(ParseError, match="only for a drill"):
        parse_generic({**base, "participants": ["bob"]}, T0)
    with pytest.raises(ParseError, match="drill must be true or false"):
        parse_generic({**base, "drill": "yes", "participants": ["bob"]}, T0)
