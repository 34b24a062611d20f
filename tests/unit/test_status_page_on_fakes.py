"""The status page use case on fakes: what people set, what is published, and the coalescing publisher.

GIVEN the shipped siren.yaml components and the fake store and site (tests/fakes.py)
WHEN incidents open, people set statuses and maintenance windows, and publishers run (alone or at once)
THEN the site shows it, an unchanged site is not written again, and two publishers never publish over each other.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.app.status_page import StatusPage
from siren.config import load_config
from siren.domain.incidents import Incident, IncidentError, IncidentStatus
from siren.render.status_site import API_PREFIX
from tests.fakes import FakeStatusSite, FakeStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


def page(store: FakeStore, now: datetime = NOW) -> StatusPage:
    return StatusPage(store.incidents, store.status_page, CONFIG, "https://status.example.com", clock=lambda: now)


def components(site: FakeStatusSite) -> dict[str, str]:
    body = site.read(API_PREFIX + "components.json")
    assert body is not None
    return {c["id"]: c["status"] for c in json.loads(body)["components"] if not c["group"]}


def payments_outage() -> Incident:
    return Incident(
        id="INC-20261130-0250-00abcd",
        status=IncidentStatus.OPEN,
        severity="SEV1",
        title="payments down",
        service="payments",
        dedup_key="payments",
        source="test",
        opened_at=NOW - timedelta(minutes=10),
        last_seen_at=NOW - timedelta(minutes=10),
    )


def test_an_open_sev1_shows_its_component_down_and_an_unchanged_site_is_not_written_again(store):
    # GIVEN an open SEV1 on the payments service
    store.incidents.put(payments_outage())
    site = FakeStatusSite()

    # WHEN the page is published, then published again with nothing changed
    first = page(store).publish(site)
    second = page(store).publish(site)

    # THEN the payments component is in a major outage, the others operational, and the second publish wrote nothing
    shown = components(site)
    assert shown["payments-api"] == "major_outage"
    assert {status for cid, status in shown.items() if cid != "payments-api"} == {"operational"}
    assert first.published and first.rounds == 1 and first.written > 0
    assert second.published and second.written == 0 and second.unchanged == first.written + first.unchanged


def test_a_status_set_by_hand_is_shown_and_operational_clears_it(store):
    site = FakeStatusSite()
    page(store).set_component_status("search", "degraded_performance", "alice")
    page(store).publish(site)
    assert components(site)["search"] == "degraded_performance"

    page(store).set_component_status("search", "operational", "alice")
    page(store).publish(site)
    assert components(site)["search"] == "operational"


@pytest.mark.parametrize(
    ("component", "status"), [("no-such-component", "major_outage"), ("search", "on_fire")], ids=["component", "status"]
)
def test_an_unknown_component_or_status_is_refused(store, component, status):
    with pytest.raises(IncidentError):
        page(store).set_component_status(component, status, "alice")
    assert store.status_page.overrides == {}


def maintenance(store: FakeStore, **changes: Any) -> Any:
    window: dict[str, Any] = {
        "title": "Database upgrade",
        "component_ids": ["checkout-api"],
        "starts_at": NOW + timedelta(days=1),
        "ends_at": NOW + timedelta(days=1, hours=2),
        "body": "Checkout may be slow.",
        "actor": "alice",
    }
    return page(store).add_maintenance(**{**window, **changes})


def test_a_maintenance_window_is_kept_and_published_as_scheduled(store):
    window = maintenance(store)
    site = FakeStatusSite()

    page(store).publish(site)

    assert list(store.status_page.maintenances) == [window.id]
    body = site.read(API_PREFIX + "scheduled-maintenances/upcoming.json")
    assert body is not None and [w["name"] for w in json.loads(body)["scheduled_maintenances"]] == ["Database upgrade"]


@pytest.mark.parametrize(
    "changes",
    [
        {"component_ids": ["nope"]},
        {"component_ids": []},
        {"ends_at": NOW},
        {"starts_at": datetime(2026, 12, 1, 2, 0)},
        {"title": "  "},
    ],
    ids=["unknown component", "no component", "ends before it starts", "no time zone", "no title"],
)
def test_a_bad_maintenance_window_is_refused(store, changes):
    with pytest.raises(IncidentError):
        maintenance(store, **changes)
    assert store.status_page.maintenances == {}


# -- coalescing ---------------------------------------------------------------------------------------------------
def test_a_publisher_that_finds_the_lease_taken_leaves_its_request_to_the_holder(store):
    # GIVEN another publisher holds the lease
    assert store.status_page.acquire_publish_lease("other", NOW, timedelta(minutes=2)) is not None
    site = FakeStatusSite()

    # WHEN this one is asked to publish
    report = page(store).publish(site)

    # THEN it publishes nothing, but its request is there for the holder to see
    assert not report.published and report.rounds == 0 and site.publishes == 0
    assert store.status_page.requests == 1
    assert not store.status_page.release_publish_lease("other", "")  # the holder must publish again


class RequestingSite(FakeStatusSite):
    """A site whose first publish takes long enough for a lifecycle event to ask for another publish."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__()
        self.store = store

    def publish(self, stages: list[Any]) -> Any:
        if self.publishes == 0:
            self.store.status_page.request_publish(NOW)
        return super().publish(stages)


def test_a_request_that_arrives_while_publishing_is_published_in_a_second_round(store):
    site = RequestingSite(store)

    report = page(store).publish(site)

    assert report.published and report.rounds == 2 and site.publishes == 2
    assert store.status_page.lease_owner is None  # the lease is given back
