"""The escalation shortcut: the function that committed a change takes the paging path's first hop itself.

GIVEN the ingest and incident use cases on fakes, with the shortcut wired to recorded escalation runs
WHEN an alert opens an incident, is redelivered, resolves, or a person acknowledges or resolves
THEN the escalation starts (or its wait ends) at once, once; the relayed lifecycle event that follows changes
nothing; and a shortcut that fails loses nothing (the change is committed, the relay does it).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.app.escalation_events import EscalationEvents, EscalationShortcut
from siren.app.incidents import Incidents
from siren.app.ingest import Ingestor
from siren.config import load_config
from siren.domain.escalation import execution_name
from siren.domain.incidents import IncidentStatus, LifecycleEventType
from siren.domain.parsers import parse_generic
from tests.fakes import FakeEscalationRuns, FakeStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
ALERT = {"dedup_key": "search-5xx", "title": "Search 5xx", "service": "search", "event_id": "e-1"}


class Wiring:
    def __init__(self, runs: FakeEscalationRuns | None = None) -> None:
        self.store = FakeStore()
        self.runs = runs or FakeEscalationRuns()
        self.shortcut = EscalationShortcut(self.store.escalations, self.runs)
        self.clock = lambda: NOW
        self.ingestor = Ingestor(self.store.incidents, CONFIG, self.clock, after_commit=self.shortcut)
        self.incidents = Incidents(self.store.incidents, CONFIG, self.clock, after_commit=self.shortcut)
        self.lifecycle = EscalationEvents(
            incidents=self.store.incidents, escalations=self.store.escalations, codes=self.store.codes, runs=self.runs
        )

    def send(self, alert: dict[str, Any]) -> tuple[str, str | None]:
        (signal,) = parse_generic(alert, NOW)
        result = self.ingestor.ingest(signal, alert)
        return result.action, result.incident_id

    def relayed(self, kind: LifecycleEventType) -> list[dict[str, Any]]:
        """What the lifecycle function does with each relayed event of ``kind`` (the outbox, in order)."""
        events = self.store.incidents.events_of(kind)
        return [self.lifecycle.on_lifecycle_event({"detail-type": str(kind), "detail": e.detail}) for e in events]

    def hold_wait(self, incident_id: str, token: str) -> None:
        """The run's first level holds its wait (what the Hold task does)."""
        run = execution_name(incident_id, 1)
        self.store.escalations.hold_token(incident_id, token, run, attempt=1)
        self.runs.held[token] = run


def test_an_alert_that_opens_an_incident_starts_its_escalation_at_once_and_the_relayed_event_changes_nothing():
    wiring = Wiring()
    # WHEN an alert opens an incident, then is redelivered and duplicated
    action, incident_id = wiring.send(ALERT)
    assert incident_id is not None
    wiring.send(ALERT)
    wiring.send({**ALERT, "event_id": "e-2"})

    # THEN its first attempt's run started once, by the ingest itself, before any event was relayed
    assert action == "opened"
    assert wiring.runs.started == [execution_name(incident_id, 1)]
    # AND the relayed "Incident Opened" that follows starts nothing more
    assert wiring.relayed(LifecycleEventType.OPENED) == [{"incident_id": incident_id, "started": False}]
    assert wiring.runs.started == [execution_name(incident_id, 1)]


def test_an_alert_that_resolves_the_incident_ends_the_escalations_wait_at_once():
    wiring = Wiring()
    _, incident_id = wiring.send(ALERT)
    assert incident_id is not None
    wiring.hold_wait(incident_id, "token-1")
    wiring.clock = lambda: NOW + timedelta(minutes=5)

    wiring.send({**ALERT, "event_id": "e-ok", "status": "resolved"})

    incident = wiring.store.incidents.get(incident_id)
    assert incident is not None and incident.status is IncidentStatus.RESOLVED
    assert wiring.runs.waits_ended == ["token-1"]
    assert wiring.runs.reasons["token-1"] == str(LifecycleEventType.RESOLVED)
    # the relayed event finds the wait already ended, and still frees the code as before
    (relayed,) = wiring.relayed(LifecycleEventType.RESOLVED)
    assert relayed["stopped"] is False and wiring.runs.waits_ended == ["token-1"]


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_a_person_acknowledging_or_resolving_ends_the_wait_at_once(action):
    wiring = Wiring()
    _, incident_id = wiring.send(ALERT)
    assert incident_id is not None
    wiring.hold_wait(incident_id, "token-1")

    if action == "acknowledge":
        wiring.incidents.acknowledge(incident_id, "alice", via="sms")
    else:
        wiring.incidents.resolve(incident_id, "alice")

    assert wiring.runs.waits_ended == ["token-1"]
    assert wiring.runs.runs[execution_name(incident_id, 1)].value == "SUCCEEDED"
    if action == "acknowledge":  # acknowledging again changes nothing, and ends nothing again
        wiring.incidents.acknowledge(incident_id, "bob", via="link")
        assert wiring.runs.waits_ended == ["token-1"]


def test_a_declared_incident_starts_its_escalation_at_once():
    wiring = Wiring()
    result = wiring.incidents.declare("Checkout down", "SEV1", "checkout", "", actor="alice")
    assert result.incident_id is not None
    assert wiring.runs.started == [execution_name(result.incident_id, 1)]


class BrokenRuns(FakeEscalationRuns):
    def start(self, incident_id: str, attempt: int, name: str) -> bool:
        raise RuntimeError("ThrottlingException: Rate exceeded")


def test_a_failing_shortcut_loses_nothing_the_incident_is_committed_and_the_relay_starts_it(caplog):
    wiring = Wiring(BrokenRuns())
    # WHEN Step Functions refuses the ingest's start
    with caplog.at_level(logging.WARNING):
        action, incident_id = wiring.send(ALERT)

    # THEN the alert still opened its incident (its sender is not told to retry), the failure is logged ...
    assert action == "opened" and incident_id is not None
    assert wiring.store.incidents.get(incident_id) is not None
    assert any("escalation shortcut failed" in record.getMessage() for record in caplog.records)
    # ... and the relayed event, the guarantee, starts the run
    wiring.runs.__class__ = FakeEscalationRuns  # Step Functions answers again
    assert wiring.relayed(LifecycleEventType.OPENED) == [{"incident_id": incident_id, "started": True}]
    assert wiring.runs.started == [execution_name(incident_id, 1)]
