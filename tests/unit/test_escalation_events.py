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

from siren.app.escalation_events import EscalationEvents
from siren.domain.escalation import parse_execution_name
from siren.domain.incidents import Incident, IncidentStatus, change_severity
from tests.fakes import FakeEscalationRuns, FakeStore

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
INCIDENT_ID = "INC-20261129-0200-00abcd"


@dataclass
class Store:
    """The store's ports as the handler uses them (fakes), seeded with the incident, its held wait and its code."""

    seeded: Incident | None
    fakes: FakeStore = field(default_factory=FakeStore)
    code: str | None = "482193"

    def __post_init__(self) -> None:
        if self.seeded is not None:
            self.fakes.incidents.put(self.seeded)
        self.fakes.escalations.hold_token(INCIDENT_ID, "token-attempt-1", "execution", attempt=1)
        if self.code is not None:
            self.fakes.codes.ack_code(INCIDENT_ID, lambda: self.code or "", NOW)

    @property
    def incident(self) -> Incident | None:
        return self.fakes.incidents.incidents.get(INCIDENT_ID)

    @incident.setter
    def incident(self, incident: Incident) -> None:
        self.fakes.incidents.incidents[INCIDENT_ID] = incident

    @property
    def attempt(self) -> int:
        return self.fakes.escalations.current_attempt(INCIDENT_ID)

    @property
    def token(self) -> str | None:
        held = self.fakes.escalations.held_token(INCIDENT_ID)
        return held[0] if held else None

    @property
    def freed(self) -> list[str]:
        return self.fakes.codes.freed


@dataclass
class Machine:
    """The escalation machine's runs (a fake), read as the attempts started and the waits ended."""

    runs: FakeEscalationRuns = field(default_factory=FakeEscalationRuns)

    @property
    def started(self) -> list[int]:
        return [parsed.attempt for name in self.runs.started if (parsed := parse_execution_name(name))]

    @property
    def waits_ended(self) -> list[str]:
        return self.runs.waits_ended


@pytest.fixture
def machine() -> Machine:
    return Machine()


def on_lifecycle_event(event: dict[str, Any], store: Store, machine: Machine) -> dict[str, Any]:
    fakes = store.fakes
    events = EscalationEvents(
        incidents=fakes.incidents,
        escalations=fakes.escalations,
        codes=fakes.codes,
        runs=machine.runs,
        clock=lambda: NOW,
    )
    return events.on_lifecycle_event(event)


def open_incident(**changes: Any) -> Incident:
    incident = Incident(
        id=INCIDENT_ID,
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
    store.fakes.incidents.add_timeline(INCIDENT_ID, list(outcome.timeline))
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

    answer = on_lifecycle_event(forged, store, machine)

    assert answer["ignored"] == "Incident Acknowledged"
    assert machine.waits_ended == []
    assert store.token == "token-attempt-1"


def test_a_forged_resolve_of_an_open_incident_leaves_the_wait(machine):
    store = Store(open_incident())
    answer = on_lifecycle_event(event("Incident Resolved", open_incident()), store, machine)
    assert "ignored" in answer and machine.waits_ended == []


@pytest.mark.parametrize("status", [IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED])
def test_an_acknowledgement_the_store_confirms_ends_the_wait(machine, status):
    incident = open_incident(status=status, version=2)
    store = Store(incident)
    kind = "Incident Acknowledged" if status is IncidentStatus.ACKNOWLEDGED else "Incident Resolved"

    answer = on_lifecycle_event(event(kind, incident), store, machine)

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

    forged_answer = on_lifecycle_event(forged, store, machine)

    assert "ignored" in forged_answer
    assert machine.started == [] and machine.waits_ended == [] and store.attempt == 1
    # WHEN a person really raises the severity afterwards
    genuine = raise_severity(store, "SEV2")
    answer = on_lifecycle_event(genuine, store, machine)
    # THEN the escalation restarts as attempt 4 (the incident's version) and the old wait ends
    assert answer["restarted"] is True
    assert machine.started == [4] and store.attempt == 4
    assert machine.waits_ended == ["token-attempt-1"]


def test_a_raise_the_timeline_does_not_hold_is_ignored(machine):
    # the version exists, but no person raised the severity to SEV1: someone made the event up
    store = Store(open_incident(version=5))
    forged = event("Severity Changed", open_incident(severity="SEV1", version=5), previous_severity="SEV3", raised=True)
    assert "ignored" in on_lifecycle_event(forged, store, machine)
    assert machine.started == [] and store.attempt == 1


def test_a_redelivered_raise_after_later_changes_starts_nothing_twice(machine):
    store = Store(open_incident(version=2))
    genuine = raise_severity(store, "SEV1")
    assert on_lifecycle_event(genuine, store, machine)["restarted"] is True
    store.incident = replace(store.incident, version=store.incident.version + 4)

    again = on_lifecycle_event(genuine, store, machine)

    assert again["restarted"] is False
    assert machine.started == [3]


def test_a_raise_of_a_resolved_incident_restarts_nothing(machine):
    store = Store(open_incident(version=2))
    genuine = raise_severity(store, "SEV1")
    store.incident = replace(store.incident, status=IncidentStatus.RESOLVED, version=4)
    assert "ignored" in on_lifecycle_event(genuine, store, machine)
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
    on_lifecycle_event(event("Incident Opened", open_incident()), store, machine)
    assert machine.started == ([1] if starts else [])
