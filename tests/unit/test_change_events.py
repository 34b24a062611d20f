"""PagerDuty change events on fakes: recorded as changes of the integration's service, then shown on the timeline
and in the page email of the service's next incident ("what changed just before this").

GIVEN the shipped siren.yaml (integration prometheus-payments -> service payments; alice is paged by email at once)
WHEN change events arrive at ``pagerduty/v2/change/enqueue`` and an incident of the service is escalated
THEN the changes of the hour before it opened are on its timeline once (a retried step adds nothing) and in its
email, escaped; older changes, later ones and other services' are not.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from siren.app.pagerduty_api import PagerDutyEventsApi
from siren.domain.changes import CHANGES_BEFORE_INCIDENT, ChangeLink, service_change
from siren.domain.incidents import TimelineKind
from siren.domain.messages import email
from tests.fakes import FakeChangeEvents
from tests.unit.test_escalation_on_fakes import NOW, Paging, incident
from tests.unit.test_pagerduty_api import CONFIG, KEY, SECRET, Door, door
from tests.unit.test_pagerduty_api import NOW as PD_NOW


def door_with_changes() -> tuple[Door, FakeChangeEvents]:
    front, changes = door(), FakeChangeEvents()
    api = front.intake.vendor_apis["pagerduty"]
    assert isinstance(api, PagerDutyEventsApi)
    front.intake.vendor_apis["pagerduty"] = replace(api, changes=lambda: changes)
    return front, changes


# -- record -------------------------------------------------------------------------------------------------------
def test_a_change_event_is_recorded_for_the_integrations_service_at_its_timestamp():
    front, changes = door_with_changes()
    body = {
        "routing_key": KEY,
        "payload": {
            "summary": "Deployed payments v42",
            "source": "ci",
            "timestamp": "2026-03-01T09:10:00Z",
            "custom_details": {"build": 42},
        },
        "links": [{"href": "https://ci.example/42", "text": "build 42"}],
    }
    status, answer, _ = front.post(body, path="pagerduty/v2/change/enqueue")

    assert (status, answer) == (202, {"status": "success", "message": "Change event processed"})
    (change,) = changes.recorded
    assert (change.service, change.integration, change.summary, change.source) == (
        "payments",
        "prometheus-payments",
        "Deployed payments v42",
        "ci",
    )
    assert change.at == PD_NOW.replace(minute=10) and change.custom_details == {"build": 42}
    assert change.links == (ChangeLink("https://ci.example/42", "build 42"),)
    assert front.nothing_written()  # no incident, no raw alert: a change is context


def test_a_change_event_without_a_timestamp_is_a_change_of_now_and_the_same_event_twice_is_one_change():
    front, changes = door_with_changes()
    body = {"routing_key": KEY, "payload": {"summary": "Config flag flipped"}}
    front.post(body, path="pagerduty/v2/change/enqueue")
    front.post(body, path="pagerduty/v2/change/enqueue")
    assert [c.at for c in changes.recorded] == [PD_NOW, PD_NOW]
    assert len(changes.changes) == 1


def test_a_refused_change_event_records_nothing():
    front, changes = door_with_changes()
    status, answer, _ = front.post({"routing_key": KEY, "payload": {}}, path="pagerduty/v2/change/enqueue")
    assert status == 400 and "'payload.summary' is missing or blank" in answer["errors"]
    assert changes.recorded == []
    assert SECRET and CONFIG  # the same stack as tests/unit/test_pagerduty_api.py


# -- show ---------------------------------------------------------------------------------------------------------
def paging_with_changes(*summaries_and_minutes_before: tuple[str, float], service: str = "search") -> Paging:
    paging = Paging()
    for summary, minutes in summaries_and_minutes_before:
        paging.store.changes.record(
            service_change(service, NOW - timedelta(minutes=minutes), summary, source="ci"), NOW
        )
    return paging


def escalation(paging: Paging):  # type: ignore[no-untyped-def]
    return replace(paging.escalation, changes=paging.store.changes)


def test_the_first_step_puts_the_changes_of_the_hour_before_on_the_timeline_once_under_a_retried_step():
    paging = paging_with_changes(
        ("too old", CHANGES_BEFORE_INCIDENT.total_seconds() / 60 + 1),
        ("deploy v41", 50),
        ("deploy v42", 5),
        ("after it opened", -1),
    )
    paging.store.changes.record(service_change("payments", NOW, "another service's"), NOW)
    opened = paging.store.incidents.put(incident(1))

    for _ in range(2):  # the state machine retries a step (a timeout after its writes)
        step = escalation(paging).step({"incident_id": opened.id, "attempt": 1})
        assert step["action"] == "wait"

    entries = [e for e in paging.timeline(opened.id) if e.kind is TimelineKind.CHANGE]
    assert [e.detail for e in entries] == ["change: deploy v41 (ci)", "change: deploy v42 (ci)"]
    assert [e.at for e in entries] == [NOW - timedelta(minutes=50), NOW - timedelta(minutes=5)]


def test_a_later_step_and_a_raised_severitys_restart_add_no_change_entries():
    paging = paging_with_changes(("deploy v42", 5))
    opened = paging.store.incidents.put(incident(1))
    escalation(paging).step({"incident_id": opened.id, "attempt": 2})  # a raised severity's first step
    escalation(paging).step({"incident_id": opened.id, "attempt": 1, "level": 1, "round": 0})
    assert [e for e in paging.timeline(opened.id) if e.kind is TimelineKind.CHANGE] == []


def test_no_change_no_write_and_no_changes_port_no_read():
    paging = paging_with_changes()
    opened = paging.store.incidents.put(incident(1))
    escalation(paging).step({"incident_id": opened.id, "attempt": 1})
    assert paging.store.escalations.sent == {} and len(paging.store.changes.reads) == 1
    paging.escalation.step({"incident_id": opened.id, "attempt": 1})  # wired without the port
    assert len(paging.store.changes.reads) == 1


def test_the_page_email_lists_the_changes_just_before_the_incident():
    paging = paging_with_changes(("deploy v42", 5), ("too old", 61))
    opened = paging.store.incidents.put(incident(1))
    step = escalation(paging).step({"incident_id": opened.id, "attempt": 1})
    for task in step["pages"]:
        escalation(paging).page(task, run="run-1")

    (message,) = paging.pager.emails  # alice: sms and email at once
    assert "What changed just before this" in message.text and "deploy v42 (ci)" in message.text
    assert "What changed just before this" in message.html and "deploy v42" in message.html
    assert "too old" not in message.text + message.html


def test_the_email_section_escapes_what_the_sender_wrote_and_links_only_web_urls():
    hostile = service_change(
        "search",
        NOW,
        '<script>alert("x")</script> & co',
        source="<b>ci</b>",
        links=[ChangeLink("javascript:alert(1)", "click"), ChangeLink('https://ci.example/?a=1&b="2"', "<i>run</i>")],
    )
    message = email(incident(1), "123456", changes=[hostile])

    assert "<script>" not in message.html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in message.html
    assert "&lt;b&gt;ci&lt;/b&gt;" in message.html and "<b>ci</b>" not in message.html
    assert "javascript:" not in message.html and "javascript:" not in message.text
    assert (
        'href="https://ci.example/?a=1&amp;b=&#34;2&#34;"' in message.html and "&lt;i&gt;run&lt;/i&gt;" in message.html
    )
    assert '<script>alert("x")</script> & co (<b>ci</b>)' in message.text  # the text body is not HTML


def test_an_email_without_changes_has_no_section():
    message = email(incident(1), "123456")
    assert "What changed" not in message.text + message.html
