"""The ingest use case on fakes: signals into incidents (open, dedup, flap, redelivery), and the generic format's
delivery ids scoped to the incident; a sender's fast clock corrected instead of refused.

GIVEN the shipped siren.yaml services and the fake incident repository (tests/fakes.py: versions, keys, raw
alerts and the duplicate fast path as the real store keeps them)
WHEN alerts arrive, again, and resolve
THEN one incident per episode opens, with one "Incident Opened" event, and a redelivery is applied once.

The delivery-scope tests moved here from tests/integration/test_ingest_delivery_scope.py (same assertions); the
concurrency of real deliveries stays tested against the real store (tests/integration/test_ingest_concurrency.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.ingest import alarm_event
from siren.app.ingest import Ingestor
from siren.config import load_config
from siren.domain.incidents import IncidentStatus, LifecycleEventType, TimelineKind
from siren.domain.parsers import parse_cloudwatch_event, parse_generic
from siren.domain.signals import CLOCK_SKEW_NOTE
from tests.fakes import FakeIncidentRepository

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
START = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture
def store() -> FakeIncidentRepository:
    return FakeIncidentRepository()


def ingestor(store: FakeIncidentRepository, now: datetime | None = None) -> Ingestor:
    return Ingestor(store, CONFIG, clock=(lambda: now) if now else (lambda: datetime.now(UTC)))


def send(ingest: Ingestor, alert: dict[str, Any]) -> tuple[str, str | None]:
    (signal,) = parse_generic(alert, datetime.now(UTC))
    result = ingest.ingest(signal, alert)
    return result.action, result.incident_id


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


# -- open, dedup, redelivery --------------------------------------------------------------------------------------
def test_an_alert_opens_one_incident_and_its_duplicates_are_appended_to_it(store):
    # GIVEN a search alert
    ingest = ingestor(store, START)
    alert = {"dedup_key": "search-5xx", "title": "Search 5xx", "service": "search", "event_id": "e-1"}

    # WHEN it fires, then fires again twice (new deliveries of the same problem)
    opened = send(ingest, alert)
    again = [send(ingest, {**alert, "event_id": f"e-{n}"}) for n in (2, 3)]

    # THEN one incident, three alerts on it, one "Incident Opened" event (one escalation)
    assert opened[0] == "opened" and again == [("appended", opened[1])] * 2
    incident = store.get(opened[1])  # type: ignore[arg-type]
    assert incident is not None and incident.alert_count == 3 and incident.status is IncidentStatus.OPEN
    assert len(store.events_of(LifecycleEventType.OPENED)) == 1


def test_a_redelivered_alert_is_applied_once(store):
    ingest = ingestor(store, START)
    alert = {"dedup_key": "search-5xx", "title": "Search 5xx", "service": "search", "event_id": "e-1"}
    _, incident_id = send(ingest, alert)

    # WHEN the very same delivery comes again, from this container and from another one
    from_here = send(ingest, alert)
    store.forget_hints()
    from_another = send(ingestor(store, START), alert)

    # THEN neither changes anything
    assert from_here == from_another == ("duplicate_delivery", None)
    assert store.get(incident_id).alert_count == 1  # type: ignore[arg-type, union-attr]
    assert len(store.applied) == 1


def test_an_alert_racing_another_delivery_reads_again_and_is_applied(store):
    # GIVEN the first write of a delivery loses to a concurrent change of its key
    store.conflicts = 1
    ingest = ingestor(store, START)

    # WHEN it is ingested THEN it is read again and applied, once
    action, incident_id = send(ingest, {"dedup_key": "search-slow", "title": "slow", "service": "search"})
    assert action == "opened" and incident_id in store.incidents
    assert len(store.events_of(LifecycleEventType.OPENED)) == 1


def test_a_resolved_alert_resolves_and_the_next_firing_opens_a_new_incident(store):
    clock = Clock()
    ingest = Ingestor(store, CONFIG, clock=clock)
    alert = {"dedup_key": "search-disk", "title": "Disk full", "service": "search"}
    _, first = send(ingest, {**alert, "event_id": "f-1"})
    clock.advance(5)

    assert send(ingest, {**alert, "status": "resolved", "event_id": "r-1"}) == ("resolved", first)
    clock.advance(120)
    action, second = send(ingest, {**alert, "event_id": "f-2"})

    assert action == "opened" and second != first
    assert store.get(first).status is IncidentStatus.RESOLVED  # type: ignore[arg-type, union-attr]


# -- flapping -----------------------------------------------------------------------------------------------------
def test_a_flapping_alert_is_kept_open_instead_of_paging_again_and_again(store):
    # GIVEN a search alert (siren.yaml: flapping at 4 transitions in 30 minutes; resolves on recovery)
    clock = Clock()
    ingest = Ingestor(store, CONFIG, clock=clock)
    alert = {"dedup_key": "search-flappy", "title": "Search flaps", "service": "search"}

    # WHEN it fires and resolves every two minutes for twenty minutes
    actions = []
    for flip in range(10):
        status = "resolved" if flip % 2 else "firing"
        actions.append(send(ingest, {**alert, "status": status, "event_id": f"flip-{flip}"})[0])
        clock.advance(2)

    # THEN once it flaps, a recovery keeps the incident open (recovered, not resolved) and firing again retriggers
    # it: no new incident, no new page
    assert actions == ["opened", "resolved", "opened", "recovered"] + ["retriggered", "recovered"] * 3
    assert len(store.events_of(LifecycleEventType.OPENED)) == 2
    flapping = [i for i in store.incidents.values() if i.flapping]
    assert len(flapping) == 1
    kinds = [entry.kind for entry in store.timeline(flapping[0].id)]
    assert kinds.count(TimelineKind.FLAPPING) == 1


# -- delivery scope (from tests/integration/test_ingest_delivery_scope.py) ---------------------------------------
def test_the_same_generic_failure_after_a_resolve_opens_a_new_incident_and_redeliveries_apply_once(store):
    # GIVEN a nightly job's alert without event_id or occurred_at: the very same JSON every time it fails
    key = f"nightly-backup-{uuid.uuid4().hex[:6]}"
    failed = {"dedup_key": key, "title": "Nightly backup failed", "service": "search"}
    recovered = {"dedup_key": key, "status": "resolved"}
    ingest = ingestor(store)

    action, first = send(ingest, failed)
    assert action == "opened"
    assert send(ingest, failed) == ("duplicate_delivery", None)  # a redelivery (a retry, a redelivered chunk)
    assert send(ingest, recovered)[0] == "resolved"
    assert send(ingest, recovered)[0] in ("ignored", "duplicate_delivery")  # nothing open: changes nothing

    # WHEN the same failure happens the next night
    action, second = send(ingest, failed)

    # THEN it is a new incident (it used to be dropped as a duplicate delivery for 30 days), applied once
    assert action == "opened" and second != first
    assert send(ingest, failed) == ("duplicate_delivery", None)
    store.forget_hints()  # another container: no memory of the open incident
    assert send(ingestor(store), failed) == ("duplicate_delivery", None)
    assert store.get(second).alert_count == 1  # type: ignore[arg-type, union-attr]


def test_a_generic_alert_fires_again_after_a_recovery_and_a_different_alert_is_appended(store):
    # GIVEN the checkout service, whose incidents recover and wait for a person (siren.yaml: on_recovery: recover)
    key = f"checkout-errors-{uuid.uuid4().hex[:6]}"
    failed = {"dedup_key": key, "title": "Checkout errors", "service": "checkout"}
    ingest = ingestor(store)
    action, incident = send(ingest, failed)
    assert action == "opened"
    assert send(ingest, {**failed, "summary": "still failing"})[0] == "appended"  # new content: a new delivery
    assert send(ingest, {"dedup_key": key, "status": "resolved", "service": "checkout"})[0] == "recovered"

    # WHEN the very same alert fires again THEN it is the same incident firing again, not a duplicate
    assert send(ingest, failed) == ("retriggered", incident)
    assert send(ingest, failed) == ("duplicate_delivery", None)


def test_an_alert_stamped_ten_minutes_ahead_opens_its_incident_at_the_receive_time_with_a_note(store):
    now = datetime.now(UTC).replace(microsecond=0)
    key = f"fast-clock-{uuid.uuid4().hex[:6]}"
    ahead = (now + timedelta(minutes=10)).isoformat()
    alert = {"dedup_key": key, "title": "Disk full", "service": "search", "occurred_at": ahead}
    (signal,) = parse_generic(alert, now)

    result = ingestor(store, now).ingest(signal, alert)

    assert result.action == "opened" and result.note and "600 s ahead" in result.note
    view = store.view(result.incident_id)  # type: ignore[arg-type]
    (opened,) = [entry for entry in view.timeline if entry.kind is TimelineKind.OPENED]  # type: ignore[union-attr]
    assert opened.data["occurred_at"] == now.isoformat()
    assert "600 s ahead" in opened.data["details"][CLOCK_SKEW_NOTE]


def test_a_cloudwatch_alarm_whose_state_time_is_ahead_is_applied_not_refused(store):
    now = datetime.now(UTC)
    event = alarm_event(f"search-clock-{uuid.uuid4().hex[:6]}", "ALARM")
    event["detail"]["state"]["timestamp"] = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    result = ingestor(store, now).ingest(parse_cloudwatch_event(event), event)
    assert result.action == "opened" and result.note
