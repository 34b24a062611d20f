"""The status page's model: what is public, component statuses, the page's headline, uptime."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from siren.domain.incidents import Incident, IncidentStatus, PublicNote
from siren.domain.status import (
    DEFAULT_PUBLIC_BODY,
    DEFAULT_PUBLIC_TITLE,
    Component,
    ComponentOverride,
    ComponentStatus,
    Impact,
    Maintenance,
    PublicStatus,
    build_snapshot,
    public_incident,
    uptime_days,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
COMPONENTS = [
    Component("website", "Website", services=("checkout",)),
    Component("checkout-api", "Checkout API", group="APIs", services=("checkout",)),
    Component("search", "Search", services=("search",)),
]
IMPACT = {
    "SEV1": "major_outage",
    "SEV2": "partial_outage",
    "SEV3": "degraded_performance",
    "SEV4": "operational",
    "SEV5": "operational",
}
SECRET_TITLE = "checkout-5xx arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-5xx alice +14255550100"


def incident(service: str = "checkout", severity: str = "SEV2", **changes: object) -> Incident:
    base = Incident(
        id="INC-20261127-1100-abc123",
        status=IncidentStatus.OPEN,
        severity=severity,
        title=SECRET_TITLE,
        service=service,
        dedup_key="cloudwatch:arn",
        source="cloudwatch",
        opened_at=NOW - timedelta(hours=1),
        last_seen_at=NOW,
        summary="internal: threshold crossed",
        acknowledged_by="alice",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def snapshot(incidents: list[Incident], **kwargs: object):  # type: ignore[no-untyped-def]
    arguments = {
        "page_name": "Example Status",
        "page_url": "https://status.example.com/",
        "components": COMPONENTS,
        "impact": IMPACT,
        "incidents": incidents,
        "overrides": {},
        "maintenances": [],
        "now": NOW,
    }
    arguments.update(kwargs)
    return build_snapshot(**arguments)  # type: ignore[arg-type]


def test_an_incident_without_public_updates_shows_neutral_text_and_nothing_internal():
    public = public_incident(incident(), COMPONENTS, IMPACT)
    assert public is not None
    assert public.title == DEFAULT_PUBLIC_TITLE and [u.body for u in public.updates] == [DEFAULT_PUBLIC_BODY]
    assert public.component_ids == ("website", "checkout-api")
    assert public.component_status is ComponentStatus.PARTIAL_OUTAGE and public.impact is Impact.MAJOR
    text = repr(public)
    for secret in ("checkout-5xx", "arn:aws", "123456789012", "alice", "+1425", "threshold"):
        assert secret not in text


def test_public_updates_set_title_status_and_order():
    notes = (
        PublicNote(NOW - timedelta(minutes=30), "investigating", "Looking", "alice"),
        PublicNote(NOW - timedelta(minutes=10), "identified", "Found it", "bob"),
    )
    public = public_incident(incident(public_title="Checkout errors", public_updates=notes), COMPONENTS, IMPACT)
    assert public is not None
    assert public.title == "Checkout errors" and public.status is PublicStatus.IDENTIFIED
    assert [u.body for u in public.updates] == ["Found it", "Looking"]
    assert "alice" not in repr(public) and "bob" not in repr(public)


def test_internal_noise_is_not_public():
    assert public_incident(incident(severity="SEV4"), COMPONENTS, IMPACT) is None  # affects no component
    assert public_incident(incident(service="batch-jobs"), COMPONENTS, IMPACT) is None  # no component
    noted = incident(service="batch-jobs", public_updates=(PublicNote(NOW, "monitoring", "Reports delayed", "a"),))
    assert public_incident(noted, COMPONENTS, IMPACT) is not None  # a person chose to tell customers


def test_resolving_adds_a_resolved_update_and_frees_the_components():
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_at=NOW - timedelta(minutes=5))
    page = snapshot([resolved])
    assert page.unresolved == () and len(page.history) == 1
    assert page.history[0].updates[0].status is PublicStatus.RESOLVED
    assert {v.component.id: v.status for v in page.components} == dict.fromkeys(
        ("website", "checkout-api", "search"), ComponentStatus.OPERATIONAL
    )
    assert (page.indicator, page.description) == (Impact.NONE, "All Systems Operational")


def test_the_worst_of_incidents_overrides_and_maintenance_wins():
    window = Maintenance("MNT-1", "Index rebuild", ("search",), NOW - timedelta(minutes=5), NOW + timedelta(hours=1))
    override = {"website": ComponentOverride("website", ComponentStatus.MAJOR_OUTAGE, NOW)}
    page = snapshot([incident(severity="SEV3")], overrides=override, maintenances=[window])
    statuses = {v.component.id: v.status for v in page.components}
    assert statuses == {
        "website": ComponentStatus.MAJOR_OUTAGE,
        "checkout-api": ComponentStatus.DEGRADED_PERFORMANCE,
        "search": ComponentStatus.UNDER_MAINTENANCE,
    }
    assert (page.indicator, page.description) == (Impact.CRITICAL, "Major System Outage")
    assert page.maintenances == (window,) and page.page_url == "https://status.example.com"


def test_uptime_weights_major_fully_and_partial_at_thirty_percent():
    day_start = datetime(2026, 11, 26, tzinfo=UTC)
    major = public_incident(
        incident(
            severity="SEV1",
            opened_at=day_start,
            status=IncidentStatus.RESOLVED,
            resolved_at=day_start + timedelta(hours=6),
        ),
        COMPONENTS,
        IMPACT,
    )
    partial = public_incident(
        incident(
            severity="SEV2",
            opened_at=day_start + timedelta(hours=12),
            status=IncidentStatus.RESOLVED,
            resolved_at=day_start + timedelta(hours=24),
        ),
        COMPONENTS,
        IMPACT,
    )
    assert major is not None and partial is not None
    days = uptime_days("website", [major, partial], NOW)
    assert len(days) == 90 and days[-1].day == NOW.date()
    (yesterday,) = [d for d in days if d.day == day_start.date()]
    assert abs(yesterday.uptime - (1 - (6 + 0.3 * 12) / 24)) < 1e-9
    assert yesterday.worst is ComponentStatus.MAJOR_OUTAGE
    assert all(d.uptime == 1.0 for d in days if d.day != day_start.date())
    assert uptime_days("search", [major, partial], NOW)[-2].uptime == 1.0


def test_a_component_keeps_the_created_at_it_was_first_published_with():
    first = NOW - timedelta(days=40)
    ids = [component.id for component in COMPONENTS]
    snap = snapshot([], first_published={ids[0]: first})
    created = {view.component.id: view.created_at for view in snap.components}
    assert created[ids[0]] == first  # stable across publishes
    assert all(created[cid] == NOW for cid in ids[1:])  # new on this publish: appears now
    later = snapshot([], now=NOW + timedelta(hours=1), first_published=created)
    assert {view.component.id: view.created_at for view in later.components} == created
