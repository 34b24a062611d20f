"""The incremental status publish on the real adapters (in-process local AWS, the deployed table and bucket).

GIVEN resolved incidents and one open one in the deployed table, published once to the status bucket
WHEN a long-resolved incident gets a public update and its lifecycle event asks for a publish
THEN the request's mark carries the incident through the publish state item to the lease holder, the publisher
finds it on the by-time index by the instant it opened, renders its page alone, and forgets the mark on release;
the bucket's manifest records each page's source, so an unchanged page is not rendered again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.adapters.dynamodb import DynamoStore, dynamo_store
from siren.adapters.status_bucket import MANIFEST_KEY, StatusBucket
from siren.app.status_page import LEASE, StatusPage, publish_trigger
from siren.config import load_config
from siren.domain.incidents import EVENT_SOURCE, Incident, PublicNote
from siren.ports import IncidentRef
from siren.render.status_view import incident_path
from tests.conftest import running_runtime
from tests.unit.test_status_publish_incremental import incident as unit_incident

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")


@pytest.fixture(scope="module")
def deployed(siren_assembly: Path) -> Iterator[tuple[DynamoStore, StatusBucket]]:
    for runtime in running_runtime("in-process", 600, siren_assembly):
        runtime.pause_schedules("Siren-")  # nothing but the test publishes
        assert runtime.drain(30)
        outputs = runtime.stacks["Siren"].outputs
        yield dynamo_store(outputs["IncidentsTableName"]), StatusBucket(outputs["StatusBucketName"])


def incident(n: int, now: datetime, *, resolved: bool) -> Incident:
    return unit_incident(n, resolved=resolved, now=now)


def test_a_named_resolved_incident_is_read_by_its_opening_and_rendered_alone(deployed: Any) -> None:
    store, bucket = deployed
    now = datetime.now(UTC)
    resolved = [incident(n, now, resolved=True) for n in range(5)]
    store.incidents.bulk_put([*resolved, incident(50, now, resolved=False)])
    page = StatusPage(store.incidents, store.status_page, CONFIG, "https://status.example.com")
    first = page.publish(bucket, full=True)
    assert first.rendered == 6

    # GIVEN a public update on a long-resolved incident
    target = resolved[2]
    note = PublicNote(now, "resolved", "The postmortem is published.", "alice")
    store.incidents.bulk_put([replace(target, public_updates=(*target.public_updates, note), version=2)])
    event = {"source": EVENT_SOURCE, "detail-type": "Incident Updated", "detail": target.event_detail()}

    # WHEN its event's request is marked, the state item hands the mark to the lease holder
    touched, full = publish_trigger(event)
    assert not full
    store.status_page.request_publish(now, touched)
    requests = store.status_page.acquire_publish_lease("probe", now, LEASE)
    assert requests is not None and requests.touched == (IncidentRef(target.id, target.opened_at),)
    assert store.status_page.release_publish_lease("probe", requests.up_to)

    # and a publish that names it renders its page alone
    store.status_page.request_publish(now, touched)
    report = page.publish(bucket)
    assert report.rendered == 1
    body = bucket.read(incident_path(target.id))
    assert body is not None and b"The postmortem is published." in body

    # THEN the mark is gone with the released lease, and the manifest knows every page's source
    again = store.status_page.acquire_publish_lease("probe", now, LEASE)
    assert again is not None and again.touched == ()
    assert store.status_page.release_publish_lease("probe", again.up_to)
    manifest = json.loads(bucket.read(MANIFEST_KEY) or b"{}")
    assert {incident_path(i.id) for i in resolved} <= set(manifest["sources"])
    assert page.publish(bucket).rendered == 0
