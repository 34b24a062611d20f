"""The escalation's lifecycle handler takes each event as a hint and asks the store: a forged or stale event
("Incident Acknowledged" for an open incident, "Severity Changed" with a version the incident never had) changes
nothing, and cannot disable later genuine raises.

GIVEN an incident in a recording stand-in for the store, and recorded escalation runs and waits
WHEN a lifecycle event arrives
THEN the wait ends, or a run starts, only when the store confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from siren.app import escalation_events
from siren.app.escalation_events import on_lifecycle_event
from siren.domain.incidents import Incident, IncidentStatus, TimelineEntry, change_severity
from siren.domain.records import IncidentView

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Escalation"


@dataclass
class Store:
    """The store as the handler uses it: the incident, its timeline, and the escalation record."""

    incident: Incident | None
    timeline: list[TimelineEntry] = field(default_factory=list)
    attempt: int = 1
    token: str | None = "token-attempt-1"
    code: str | None = "482193"
    freed: list[str] = field(default_factory=list)

    def get(self, incident_id: str, consistent: bool = True) -> Incident | None:
        return self.incident if self.incident and self.incident.id == incident_id else None

    def view(self, incident_id: str) -> IncidentView | None:
        incident = self.get(incident_id)
        return IncidentView(incident, list(self.timeline)) if incident else None

    def held_token(self, incident_id: str) -> tuple[str, str] | None:
        return (self.token, "execution") if self.token else None

    def free_ack_code(self, incident_id: str, now: datetime) -> str | None:
        if self.code:
            self.freed.append(self.code)
        return self.code

    def supersede_escalation(self, incident_id: str, attempt: int) -> str | None:
        if attempt <= self.attempt:
            return None
        self.attempt, token, self.token = attempt, self.token, None
        return token


@dataclass
class Machine:
    started: list[int] = field(default_factory=list)
    waits_ended: list[str] = field(default_factory=list)


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> Machine:
    recorded = Machine()

    def start(state_machine_arn: str, incident_id: str, attempt: int, name: str | None = None) -> bool:
        if attempt in recorded.started:
            return False
        recorded.started.append(attempt)
        return True

    def complete(token: str, output: dict[str, Any]) -> bool:
        recorded.waits_ended.append(token)
        return True

    monkeypatch.setattr(escalation_events, "start_escalation", start)
    monkeypatch.setattr(escalation_events, "complete_wait", complete)
    return recorded


def open_incident(**changes: Any) -> Incident:
    incident = Incident(
        id="INC-20261129-0200-00abcd",
        status=IncidentStatus.OPEN,
        severity="SEV3",
        title="checkout errors",
        service="checkout",
        dedup_key="test:checkout",
        source="test",
        opened_at=NOW,
        last_seen_at=NOW,
    )
    return replace(incident, **changes)


def event(detail_type: str, incident: Incident, **detail: Any) -> dict[str, Any]:
    return {"detail-type": detail_type, "source": "siren.incidents", "detail": incident.event_detail(**detail)}


def raise_severity(store: Store, severity: str) -> dict[str, Any]:
    """A genuine raise: the store is changed first, then its event is what the relay publishes."""
    assert store.incident is not None
    outcome = change_severity(store.incident, severity, "alice", NOW)
    assert outcome.incident is not None
    store.incident = outcome.incident
    store.timeline += list(outcome.timeline)
    (lifecycle,) = outcome.events
    return {"detail-type": str(lifecycle.detail_type), "source": "siren.incidents", "detail": dict(lifecycle.detail)}


def test_a_forged_acknowledgement_of_an_open_incident_leaves_the_wait(machine):
    store = Store(open_incident())
    forged = event(
        "Incident Acknowledged",
        replace(open_incident(), status=IncidentStatus.ACKNOWLEDGED),
        acknowledged_by="mallory",
        via="sms",
    )

    answer = on_lifecycle_event(forged, store, MACHINE)  # type: ignore[arg-type]

    assert answer["ignored"] == "Incident Acknowledged"
    assert machine.waits_ended == []
    assert store.token == "token-attempt-1"


def test_a_forged_resolve_of_an_open_incident_leaves_the_wait(machine):
    store = Store(open_incident())
    answer = on_lifecycle_event(event("Incident Resolved", open_incident()), store, MACHINE)  # type: ignore[arg-type]
    assert "ignored" in answer and machine.waits_ended == []


@pytest.mark.parametrize("status", [IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED])
def test_an_acknowledgement_the_store_confirms_ends_the_wait(machine, status):
    incident = open_incident(status=status, version=2)
    store = Store(incident)
    kind = "Incident Acknowledged" if status is IncidentStatus.ACKNOWLEDGED else "Incident Resolved"

    answer = on_lifecycle_event(event(kind, incident), store, MACHINE)  # type: ignore[arg-type]

    assert answer["stopped"] is True
    assert machine.waits_ended == ["token-attempt-1"]
    # A resolve gives the acknowledgement code back; an acknowledgement keeps it (RES <code> still works).
    assert store.freed == (["482193"] if status is IncidentStatus.RESOLVED else [])


def test_a_forged_raise_with_a_huge_version_neither_restarts_nor_blocks_a_genuine_raise(machine):
    store = Store(open_incident(version=3))
    forged = event(
        "Severity Changed",
        open_incident(severity="SEV1", version=999999),
        previous_severity="SEV3",
        raised=True,
        changed_by="mallory",
    )

    forged_answer = on_lifecycle_event(forged, store, MACHINE)  # type: ignore[arg-type]

    assert "ignored" in forged_answer
    assert machine.started == [] and machine.waits_ended == [] and store.attempt == 1
    # WHEN a person really raises the severity afterwards
    genuine = raise_severity(store, "SEV2")
    answer = on_lifecycle_event(genuine, store, MACHINE)  # type: ignore[arg-type]
    # THEN the escalation restarts as attempt 4 (the incident's version) and the old wait ends
    assert answer["restarted"] is True
    assert machine.started == [4] and store.attempt == 4
    assert machine.waits_ended == ["token-attempt-1"]


def test_a_raise_the_timeline_does_not_hold_is_ignored(machine):
    # the version exists, but no person raised the severity to SEV1: someone made the event up
    store = Store(open_incident(version=5))
    forged = event("Severity Changed", open_incident(severity="SEV1", version=5), previous_severity="SEV3", raised=True)
    assert "ignored" in on_lifecycle_event(forged, store, MACHINE)  # type: ignore[arg-type]
    assert machine.started == [] and store.attempt == 1


def test_a_redelivered_raise_after_later_changes_starts_nothing_twice(machine):
    store = Store(open_incident(version=2))
    genuine = raise_severity(store, "SEV1")
    assert on_lifecycle_event(genuine, store, MACHINE)["restarted"] is True  # type: ignore[arg-type]
    store.incident = replace(store.incident, version=store.incident.version + 4)  # type: ignore[arg-type]

    again = on_lifecycle_event(genuine, store, MACHINE)  # type: ignore[arg-type]

    assert again["restarted"] is False
    assert machine.started == [3]


def test_a_raise_of_a_resolved_incident_restarts_nothing(machine):
    store = Store(open_incident(version=2))
    genuine = raise_severity(store, "SEV1")
    store.incident = replace(store.incident, status=IncidentStatus.RESOLVED, version=4)  # type: ignore[arg-type]
    assert "ignored" in on_lifecycle_event(genuine, store, MACHINE)  # type: ignore[arg-type]
    assert machine.started == []


@pytest.mark.parametrize(
    ("stored", "starts"),
    [
        (open_incident(), True),
        (open_incident(status=IncidentStatus.RECOVERED), True),
        (open_incident(status=IncidentStatus.ACKNOWLEDGED), False),
        (open_incident(status=IncidentStatus.RESOLVED), False),
        (None, False),
    ],
)
def test_an_opened_event_starts_only_for_an_open_unacknowledged_incident(machine, stored, starts):
    store = Store(stored)
    on_lifecycle_event(event("Incident Opened", open_incident()), store, MACHINE)  # type: ignore[arg-type]
    assert machine.started == ([1] if starts else [])
