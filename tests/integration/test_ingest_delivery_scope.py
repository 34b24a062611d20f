"""The ingestor against the real store (in-process local AWS, the deployed table): the generic format's own
delivery ids are scoped to the incident, and a sender's fast clock is corrected instead of refused.

GIVEN the synthesized stack deployed in-process (one runtime for this module; each test uses keys of its own),
WHEN generic alerts without ``event_id`` come and go, or an alert is stamped in the future, THEN redeliveries are
applied once, the same failure after a resolve opens a new incident, and nothing is refused for its clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.ingest import alarm_event
from siren.adapters.dynamodb import DynamoIncidents
from siren.app.ingest import Ingestor
from siren.config import load_config
from siren.domain.incidents import TimelineKind
from siren.domain.parsers import parse_cloudwatch_event, parse_generic
from siren.domain.signals import CLOCK_SKEW_NOTE
from tests.conftest import running_runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runtime(siren_assembly: Path) -> Iterator[Any]:
    yield from running_runtime("in-process", 600, siren_assembly)


@pytest.fixture
def incidents(runtime: Any) -> DynamoIncidents:
    DynamoIncidents.forget_hints()
    return DynamoIncidents(runtime.stacks["Siren"].outputs["IncidentsTableName"])


def ingestor(incidents: DynamoIncidents, now: datetime | None = None) -> Ingestor:
    config = load_config(ROOT / "siren.yaml")
    return Ingestor(incidents, config, clock=(lambda: now) if now else (lambda: datetime.now(UTC)))


def send(ingest: Ingestor, alert: dict[str, Any]) -> tuple[str, str | None]:
    (signal,) = parse_generic(alert, datetime.now(UTC))
    result = ingest.ingest(signal, alert)
    return result.action, result.incident_id


def test_the_same_generic_failure_after_a_resolve_opens_a_new_incident_and_redeliveries_apply_once(incidents):
    # GIVEN a nightly job's alert without event_id or occurred_at: the very same JSON every time it fails
    key = f"nightly-backup-{uuid.uuid4().hex[:6]}"
    failed = {"dedup_key": key, "title": "Nightly backup failed", "service": "search"}
    recovered = {"dedup_key": key, "status": "resolved"}
    ingest = ingestor(incidents)

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
    DynamoIncidents.forget_hints()  # another container: no memory of the open incident
    assert send(ingestor(incidents), failed) == ("duplicate_delivery", None)
    assert incidents.get(second).alert_count == 1  # type: ignore[union-attr]


def test_a_generic_alert_fires_again_after_a_recovery_and_a_different_alert_is_appended(incidents):
    # GIVEN the checkout service, whose incidents recover and wait for a person (siren.yaml: on_recovery: recover)
    key = f"checkout-errors-{uuid.uuid4().hex[:6]}"
    failed = {"dedup_key": key, "title": "Checkout errors", "service": "checkout"}
    ingest = ingestor(incidents)
    action, incident = send(ingest, failed)
    assert action == "opened"
    assert send(ingest, {**failed, "summary": "still failing"})[0] == "appended"  # new content: a new delivery
    assert send(ingest, {"dedup_key": key, "status": "resolved", "service": "checkout"})[0] == "recovered"

    # WHEN the very same alert fires again THEN it is the same incident firing again, not a duplicate
    assert send(ingest, failed) == ("retriggered", incident)
    assert send(ingest, failed) == ("duplicate_delivery", None)


def test_an_alert_stamped_ten_minutes_ahead_opens_its_incident_at_the_receive_time_with_a_note(incidents):
    now = datetime.now(UTC).replace(microsecond=0)
    key = f"fast-clock-{uuid.uuid4().hex[:6]}"
    ahead = (now + timedelta(minutes=10)).isoformat()
    alert = {"dedup_key": key, "title": "Disk full", "service": "search", "occurred_at": ahead}
    (signal,) = parse_generic(alert, now)

    result = ingestor(incidents, now).ingest(signal, alert)

    assert result.action == "opened" and result.note and "600 s ahead" in result.note
    view = incidents.view(result.incident_id)  # type: ignore[arg-type]
    (opened,) = [entry for entry in view.timeline if entry.kind is TimelineKind.OPENED]  # type: ignore[union-attr]
    assert opened.data["occurred_at"] == now.isoformat()
    assert "600 s ahead" in opened.data["details"][CLOCK_SKEW_NOTE]


def test_a_cloudwatch_alarm_whose_state_time_is_ahead_is_applied_not_refused(incidents):
    now = datetime.now(UTC)
    event = alarm_event(f"search-clock-{uuid.uuid4().hex[:6]}", "ALARM")
    event["detail"]["state"]["timestamp"] = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    result = ingestor(incidents, now).ingest(parse_cloudwatch_event(event), event)
    assert result.action == "opened" and result.note
