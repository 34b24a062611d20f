"""Which lifecycle events mail subscribers, and what the mail says: GIVEN an incident and the event its change
produced (the domain's own actions make both), WHEN the notices run on fakes, THEN the news mailed to the confirmed
subscribers, from the incident's public face only (never its internal title)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siren.app.subscriptions import SubscriberNotices, SubscriptionService, SubscriptionSettings
from siren.domain.incidents import (
    EVENT_SOURCE,
    Incident,
    IncidentStatus,
    LifecycleEventType,
    Outcome,
    change_severity,
    post_public_update,
    resolve,
)
from siren.domain.status import DEFAULT_PUBLIC_BODY, DEFAULT_RESOLVED_BODY, Component, Maintenance
from siren.domain.subscriptions import Notice, Subscriber, incident_news
from tests.fakes import (
    FakeIncidentRepository,
    FakeRequestRates,
    FakeStatusPageState,
    FakeSubscriberMailer,
    FakeSubscribers,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COMPONENTS = (Component("api", "API", services=("payments",)), Component("web", "Website", services=("web",)))
IMPACT = {"SEV1": "major_outage", "SEV2": "partial_outage", "SEV3": "operational"}
PAGE = "https://status.acme.example"
INTERNAL_TITLE = "db-primary-7 OOM killed (pager: ada)"


def incident(severity: str = "SEV1", service: str = "payments", **changes: Any) -> Incident:
    return Incident(
        id="INC-20261201-0850-00abcd",
        status=IncidentStatus.OPEN,
        severity=severity,
        title=INTERNAL_TITLE,
        service=service,
        dedup_key="payments",
        source="test",
        opened_at=NOW - timedelta(minutes=10),
        last_seen_at=NOW - timedelta(minutes=10),
        **changes,
    )


def opened(inc: Incident) -> tuple[str, dict[str, Any]]:
    return str(LifecycleEventType.OPENED), inc.event_detail()


def event_of(outcome: Outcome) -> tuple[str, dict[str, Any]]:
    [event] = outcome.events
    return str(event.detail_type), dict(event.detail)


def news_of(detail_type: str, detail: dict[str, Any], inc: Incident):
    return incident_news(detail_type, detail, inc, components=COMPONENTS, impact=IMPACT, page_url=PAGE)


def test_a_public_incident_is_news_when_it_opens_from_its_public_face_only():
    inc = incident()
    news = news_of(*opened(inc), inc)
    assert news is not None
    assert (news.notice, news.body, news.components, news.public) == (
        Notice.OPENED,
        DEFAULT_PUBLIC_BODY,
        frozenset({"api"}),
        True,
    )
    assert INTERNAL_TITLE not in news.title and news.page_url == PAGE


@pytest.mark.parametrize(
    "inc",
    [incident("SEV3"), incident(service="internal-batch"), incident(drill=True), incident(canary=True)],
    ids=["no-impact", "no-component", "drill", "canary"],
)
def test_an_incident_that_is_not_public_is_no_news(inc):
    assert news_of(*opened(inc), inc) is None


def test_the_first_public_update_of_a_quiet_incident_opens_it_and_the_next_one_updates():
    quiet = incident("SEV3")
    first = post_public_update(quiet, "Card payments fail for some.", "identified", "ada", NOW, title="Payments")
    news = news_of(*event_of(first), first.incident)
    assert news is not None and (news.notice, news.title, news.body) == (
        Notice.OPENED,
        "Payments",
        "Card payments fail for some.",
    )

    second = post_public_update(first.incident, "A fix is rolling out.", "monitoring", "ada", NOW)
    news_of_second = news_of(*event_of(second), second.incident)
    assert news_of_second is not None
    assert (news_of_second.notice, news_of_second.body) == (Notice.UPDATED, "A fix is rolling out.")
    # Each piece of news has its own key, the same however many events tell it.
    assert (news.key, news_of_second.key) == (f"{quiet.id}:opened", f"{quiet.id}:updated:2")
    third = post_public_update(second.incident, "Fixed, watching.", "monitoring", "ada", NOW)
    assert news_of(*event_of(second), third.incident).key == f"{quiet.id}:updated:3"  # the store's latest


def test_a_resolved_public_update_is_the_resolution_and_resolving_after_it_says_nothing_more():
    said = post_public_update(incident(), "All good again.", "resolved", "ada", NOW)
    news = news_of(*event_of(said), said.incident)
    assert news is not None and news.notice is Notice.RESOLVED

    done = resolve(said.incident, "ada", None, NOW)
    assert news_of(*event_of(done), done.incident) is None


def test_resolving_a_public_incident_nobody_wrote_about_is_the_resolution():
    done = resolve(incident(), "ada", None, NOW)
    news = news_of(*event_of(done), done.incident)
    assert news is not None and (news.notice, news.body) == (Notice.RESOLVED, DEFAULT_RESOLVED_BODY)


def test_a_severity_change_is_news_only_when_it_makes_the_incident_public():
    raised = change_severity(incident("SEV3"), "SEV2", "ada", NOW)
    news = news_of(*event_of(raised), raised.incident)
    assert news is not None and news.notice is Notice.OPENED

    again = change_severity(raised.incident, "SEV1", "ada", NOW)
    assert news_of(*event_of(again), again.incident) is None


def test_acknowledging_is_no_news():
    inc = incident()
    assert news_of(str(LifecycleEventType.ACKNOWLEDGED), inc.event_detail(), inc) is None


class World:
    def __init__(self) -> None:
        self.repository = FakeIncidentRepository()
        self.subscribers = FakeSubscribers()
        self.mailer = FakeSubscriberMailer()
        service = SubscriptionService(
            subscribers=self.subscribers,
            mailer=self.mailer,
            rates=FakeRequestRates(1000),
            secret=lambda: b"k" * 32,
            settings=SubscriptionSettings("Acme", "https://subscribe.acme.example/", frozenset({"api", "web"})),
        )
        self.page_state = FakeStatusPageState()
        self.notices = SubscriberNotices(self.repository, service, COMPONENTS, IMPACT, PAGE, self.page_state)
        for email, components in (
            ("api@example.com", {"api"}),
            ("web@example.com", {"web"}),
            ("all@example.com", set()),
        ):
            self.subscribers.by_email[email] = Subscriber(email, frozenset(components), NOW, "t", confirmed_at=NOW)
        self.subscribers.by_email["pending@example.com"] = Subscriber("pending@example.com", frozenset(), NOW, "t")


def bus_event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"source": EVENT_SOURCE, "detail-type": detail_type, "detail": detail}


def test_the_notices_mail_the_confirmed_subscribers_of_the_incident_components_from_the_store():
    world = World()
    inc = world.repository.put(incident())
    notified = world.notices.on_event(bus_event(*opened(inc)))

    assert notified is not None and notified.sent == 2
    assert sorted(mail.to for mail in world.mailer.sent) == ["all@example.com", "api@example.com"]
    assert all(INTERNAL_TITLE not in mail.subject + mail.text + mail.html for mail in world.mailer.sent)


def test_a_redelivered_event_mails_nobody_twice():
    world = World()
    inc = world.repository.put(incident())
    assert world.notices.on_event(bus_event(*opened(inc))).sent == 2
    again = world.notices.on_event(bus_event(*opened(inc)))
    assert again is not None and (again.sent, again.already_mailed) == (0, True)
    assert len(world.mailer.sent) == 2


def test_the_notices_ignore_what_is_not_an_incident_event():
    world = World()
    assert world.notices.on_event({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}) is None
    assert world.notices.on_event(bus_event("Incident Opened", {"incident_id": "INC-gone"})) is None
    assert world.mailer.sent == []


def test_an_event_that_is_never_news_is_skipped_without_reading_the_store():
    world = World()
    inc = world.repository.put(incident())
    reads = world.repository.reads
    assert world.notices.on_event(bus_event(str(LifecycleEventType.ACKNOWLEDGED), inc.event_detail())) is None
    assert world.repository.reads == reads


def test_a_scheduled_maintenance_is_mailed_to_the_subscribers_of_its_components():
    world = World()
    window = Maintenance(
        "MNT-1", "Database upgrade", ("web",), NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2)
    )
    world.page_state.maintenances[window.id] = window
    detail = {"change": "maintenance MNT-1 scheduled", "maintenance_id": "MNT-1"}

    notified = world.notices.on_event(bus_event(str(LifecycleEventType.STATUS_CHANGED), detail))

    assert notified is not None and notified.sent == 2
    assert sorted(mail.to for mail in world.mailer.sent) == ["all@example.com", "web@example.com"]
    [mail, _] = world.mailer.sent
    assert "Scheduled maintenance: Database upgrade" in mail.subject
    assert "From 2026-12-02 09:00 to 2026-12-02 11:00 UTC." in mail.text


def test_a_status_change_that_names_no_maintenance_is_not_mailed():
    world = World()
    assert world.notices.on_event(bus_event(str(LifecycleEventType.STATUS_CHANGED), {"change": "component"})) is None
    assert world.notices.on_event(bus_event(str(LifecycleEventType.STATUS_CHANGED), {"maintenance_id": "gone"})) is None
    assert world.mailer.sent == []
