"""The incremental status publish: what a publish reads and renders after a change, and that nothing shown is stale.

GIVEN resolved incidents, one open incident and a first publish of the whole site (tests/fakes.py's store and site)
WHEN one thing changes (a public update, a resolution, a status set by hand, a maintenance window, the page's name)
THEN the next publish renders only the incident pages whose content changed (plus the fixed set: feed, API, history
and index, rendered every time), and the site it leaves is byte for byte the site a full publish makes from scratch.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from siren.app.status_page import StatusPage, publish_trigger
from siren.app.status_record import RECORD_KEY
from siren.config import load_config
from siren.domain.incidents import EVENT_SOURCE, Incident, IncidentStatus, PublicNote
from siren.domain.policy import SirenConfig
from siren.ports import IncidentRef
from siren.render.status_site import API_PREFIX, FEED_KEY, INDEX_KEY
from siren.render.status_view import incident_path
from tests.fakes import FakeStatusSite, FakeStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
RESOLVED = 6


def page(store: FakeStore, config: SirenConfig = CONFIG, now: datetime = NOW) -> StatusPage:
    return StatusPage(store.incidents, store.status_page, config, "https://status.example.com", clock=lambda: now)


def incident(n: int, *, resolved: bool, now: datetime = NOW) -> Incident:
    """Incident ``n``: opened n+1 days before ``now`` (each at its own instant), public, resolved or open."""
    opened = now - timedelta(days=n + 1, minutes=n, microseconds=n)
    return Incident(
        id=f"INC-{opened:%Y%m%d-%H%M}-{n:06x}",
        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.OPEN,
        severity="SEV1",
        title=f"payments down {n}",
        service="payments",
        dedup_key=f"payments-{n}",
        source="test",
        opened_at=opened,
        last_seen_at=opened,
        resolved_at=opened + timedelta(minutes=30) if resolved else None,
        public_title=f"Payments failing ({n})",
        public_updates=(PublicNote(opened + timedelta(minutes=2), "investigating", f"Looking into {n}.", "a"),),
    )


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def published(store: FakeStore) -> tuple[FakeStatusSite, list[Incident], Incident]:
    """A site published once from RESOLVED resolved incidents and one open one."""
    resolved = [store.incidents.put(incident(n, resolved=True)) for n in range(RESOLVED)]
    live = store.incidents.put(incident(99, resolved=False))
    site = FakeStatusSite()
    first = page(store).publish(site, full=True)
    assert first.rendered == RESOLVED + 1  # the first publish renders every incident page
    return site, resolved, live


def post(store: FakeStore, target: Incident, body: str, status: str = "identified") -> Incident:
    note = PublicNote(NOW - timedelta(minutes=1), status, body, "alice")
    return store.incidents.put(replace(target, public_updates=(*target.public_updates, note), version=2))


def fresh_site(store: FakeStore, config: SirenConfig = CONFIG) -> dict[str, bytes]:
    """What a full publish from scratch makes of the store now: the reference an incremental publish must match."""
    site = FakeStatusSite()
    page(store, config).publish(site, full=True)
    return {key: obj.body for key, obj in site.objects.items()}


def shown(site: FakeStatusSite) -> dict[str, bytes]:
    return {key: obj.body for key, obj in site.objects.items()}


def test_after_one_public_update_only_that_incidents_page_is_rendered(store, published):
    site, resolved, live = published
    # WHEN a public update is posted on the open incident, and the lifecycle event's publish runs
    post(store, live, "We found the cause.")
    touched, full = publish_trigger(event_for(live))
    report = page(store).publish(site, touched, full=full)

    # THEN its page is the one incident page rendered: no resolved, unchanged incident's page is
    assert site.rendered_keys[-1] == [incident_path(live.id)]
    assert report.rendered == 1
    assert not {incident_path(i.id) for i in resolved} & set(site.rendered_keys[-1])
    # and the page, the feed, the API and the index say it
    assert b"We found the cause." in site.objects[incident_path(live.id)].body
    assert b"We found the cause." in site.objects[FEED_KEY].body
    assert b"We found the cause." in site.objects[API_PREFIX + "incidents/unresolved.json"].body
    assert shown(site) == fresh_site(store)


def test_an_unchanged_site_renders_no_incident_page(store, published):
    site, _, _ = published
    report = page(store).publish(site)
    assert report.rendered == 0 and report.written == 0


def test_a_public_update_on_a_long_resolved_incident_named_by_its_event_is_published(store, published):
    site, resolved, _ = published
    target = resolved[3]
    # WHEN a resolved incident gets a public update (a postmortem note) and its event triggers the publish
    post(store, target, "The postmortem is out.", status="resolved")
    touched, full = publish_trigger(event_for(target))
    report = page(store).publish(site, touched, full=full)

    # THEN its page is rendered again and shows it, and nothing else of the history is rendered
    assert site.rendered_keys[-1] == [incident_path(target.id)] and report.rendered == 1
    assert b"The postmortem is out." in site.objects[incident_path(target.id)].body
    assert b"The postmortem is out." in site.objects[FEED_KEY].body
    assert shown(site) == fresh_site(store)


def test_an_incident_resolved_since_the_last_publish_is_read_again_without_being_named(store, published):
    site, _, live = published
    # WHEN the open incident is resolved and a publish runs that names no incident (a status page change)
    store.incidents.put(replace(live, status=IncidentStatus.RESOLVED, resolved_at=NOW - timedelta(minutes=1)))
    page(store).publish(site)

    # THEN its page says resolved (it was open at the last publish, so it is read again), and the site is current
    assert site.rendered_keys[-1] == [incident_path(live.id)]
    assert b"Resolved" in site.objects[incident_path(live.id)].body
    assert shown(site) == fresh_site(store)
    # and the next publish takes it from the record: nothing rendered
    page(store).publish(site)
    assert site.rendered_keys[-1] == []


def test_a_status_set_by_hand_and_a_maintenance_window_are_shown_without_rendering_incident_pages(store, published):
    site, _, _ = published
    status_page = page(store)
    status_page.set_component_status("search", "partial_outage", "alice")
    status_page.add_maintenance(
        title="Database upgrade",
        component_ids=["search"],
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=2),
        body="Short interruptions.",
        actor="alice",
    )
    status_page.publish(site, *publish_trigger({"source": EVENT_SOURCE, "detail": {"change": "component"}}))

    assert site.rendered_keys[-1] == []
    assert b"Database upgrade" in site.objects[INDEX_KEY].body
    assert b"partial_outage" in site.objects[API_PREFIX + "components.json"].body
    assert shown(site) == fresh_site(store)


def test_a_new_page_name_renders_every_incident_page_again(store, published):
    site, _, _ = published
    renamed = replace(CONFIG, status_page=replace(CONFIG.status_page, name="Renamed"))
    page(store, renamed).publish(site)

    assert len(site.rendered_keys[-1]) == RESOLVED + 1
    assert shown(site) == fresh_site(store, renamed)


def test_an_import_no_event_names_is_published_by_the_scheduled_full_read(store, published):
    site, _, _ = published
    imported = store.incidents.put(incident(40, resolved=True))

    # An incremental publish does not know of it (no event named it) ...
    page(store).publish(site)
    assert incident_path(imported.id) not in site.objects
    # ... the scheduled run reads every incident and publishes it.
    touched, full = publish_trigger({"source": "aws.scheduler"})
    assert full and not touched
    page(store).publish(site, touched, full=full)
    assert site.rendered_keys[-1] == [incident_path(imported.id)]
    assert shown(site) == fresh_site(store)


def test_an_unusable_record_means_a_full_read(store, published):
    site, _, _ = published
    imported = store.incidents.put(incident(41, resolved=True))
    site.objects.pop(RECORD_KEY)

    page(store).publish(site)

    assert incident_path(imported.id) in site.objects
    assert shown(site) == fresh_site(store)


def event_for(target: Incident) -> dict[str, object]:
    return {
        "source": EVENT_SOURCE,
        "detail-type": "Incident Updated",
        "detail": target.event_detail(change="public_update"),
    }


def test_what_a_trigger_asks_of_a_publish():
    target = incident(1, resolved=True)
    assert publish_trigger(event_for(target)) == ([IncidentRef(target.id, target.opened_at)], False)
    assert publish_trigger({"source": EVENT_SOURCE, "detail": {"change": "maintenance"}}) == ([], False)
    assert publish_trigger({"source": EVENT_SOURCE, "detail": {"incident_id": "x", "opened_at": "?"}}) == ([], True)
    assert publish_trigger({}) == ([], True)
