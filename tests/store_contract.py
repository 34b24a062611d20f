"""What the use cases rely on of the store, as checks that run against any implementation of its ports: the fakes
(tests/unit/test_fakes_keep_the_store_contract.py, milliseconds) and the real store on the local AWS
(tests/integration/test_store_contract.py). When the two pass the same checks, a use-case test on the fakes says
what the use case does on the real store.

Each check takes a ``Store`` (the ports and a way to write an incident as it is) and ids of its own, so that the
checks can share one table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from siren.domain.changes import ChangeLink, service_change
from siren.domain.incidents import Incident, IncidentStatus, KeyState, Outcome, TimelineEntry, TimelineKind
from siren.domain.records import RawAlert
from siren.domain.slack_blocks import SlackThread
from siren.domain.subscriptions import NoticeProgress, new_subscriber
from siren.ports import (
    AckCodes,
    ChangeEvents,
    ConcurrentChange,
    DuplicateDelivery,
    EscalationState,
    IncidentRepository,
    SlackThreads,
    Subscribers,
)

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Store:
    incidents: IncidentRepository
    escalations: EscalationState
    codes: AckCodes
    changes: ChangeEvents
    subscribers: Subscribers
    seed: Callable[[Incident], None]  # writes an incident as it is (no timeline, no event, no condition)
    slack_threads: SlackThreads


def new_incident(**changes: object) -> Incident:
    unique = uuid.uuid4().hex[:6]
    incident = Incident(
        id=f"INC-20261130-0300-{unique}",
        status=IncidentStatus.OPEN,
        severity="SEV2",
        title="contract",
        service="search",
        dedup_key=f"contract:{unique}",
        source="test",
        opened_at=NOW,
        last_seen_at=NOW,
    )
    return replace(incident, **changes)  # type: ignore[arg-type]


def opening(incident: Incident) -> Outcome:
    entry = TimelineEntry(NOW, TimelineKind.OPENED, "test", "opened")
    key = KeyState(incident.dedup_key, incident.id, version=1)
    return Outcome("opened", "contract", incident, None, key, (entry,))


def raw(delivery_id: str) -> RawAlert:
    return RawAlert("test", delivery_id, NOW, {"delivery": delivery_id})


def check_a_change_from_a_stale_read_is_refused(store: Store) -> None:
    incident = new_incident()
    store.incidents.apply(opening(incident), raw(uuid.uuid4().hex))
    assert store.incidents.get(incident.id) == incident

    fresh = replace(incident, alert_count=2, version=2)
    store.incidents.apply(Outcome("appended", "contract", fresh, incident), None)
    with pytest.raises(ConcurrentChange):  # read at version 1, but the incident is at 2 now
        store.incidents.apply(Outcome("appended", "contract", replace(incident, version=2), incident), None)
    with pytest.raises(ConcurrentChange):  # opened twice
        store.incidents.apply(opening(new_incident(id=incident.id)), None)
    assert store.incidents.get(incident.id) == fresh


def check_a_delivery_is_applied_once(store: Store) -> None:
    delivery = uuid.uuid4().hex
    store.incidents.apply(opening(new_incident()), raw(delivery))
    with pytest.raises(DuplicateDelivery):
        store.incidents.apply(opening(new_incident()), raw(delivery))
    other = raw(uuid.uuid4().hex)
    assert store.incidents.record_raw_alert(other) is True
    assert store.incidents.record_raw_alert(other) is False
    assert store.incidents.get_raw_alert("test", other.delivery_id) is not None


def check_a_later_attempt_takes_over_the_wait(store: Store) -> None:
    incident_id = new_incident().id
    assert store.escalations.current_attempt(incident_id) == 1
    assert store.escalations.hold_token(incident_id, "token-1", "run-1", attempt=1)
    assert store.escalations.held_token(incident_id) == ("token-1", "run-1")

    assert store.escalations.supersede_escalation(incident_id, 2) == "token-1"
    assert store.escalations.supersede_escalation(incident_id, 2) is None  # a redelivered raise
    assert store.escalations.current_attempt(incident_id) == 2 and store.escalations.held_token(incident_id) is None
    assert not store.escalations.hold_token(incident_id, "token-old", "run-1", attempt=1)
    assert store.escalations.hold_token(incident_id, "token-2", "run-2", attempt=2)
    assert store.escalations.held_token(incident_id) == ("token-2", "run-2")


def check_a_held_wait_keeps_its_level(store: Store) -> None:
    """Escalate now reads the level the held wait is at; a later attempt's take-over forgets it with the token."""
    from siren.domain.escalation import HeldWait, WaitingAt

    incident_id = new_incident().id
    assert store.escalations.held_wait(incident_id) is None
    level_two = WaitingAt(attempt=1, round=0, level=1, last=False)
    assert store.escalations.hold_token(incident_id, "token-1", "run-1", attempt=1, waiting=level_two)
    assert store.escalations.held_wait(incident_id) == HeldWait("token-1", "run-1", level_two)
    assert store.escalations.hold_token(incident_id, "token-2", "run-1", attempt=1)  # a run without levels
    assert store.escalations.held_wait(incident_id) == HeldWait("token-2", "run-1", None)
    assert store.escalations.supersede_escalation(incident_id, 2) == "token-2"
    assert store.escalations.held_wait(incident_id) is None


def check_a_page_task_remembers_what_it_sent(store: Store) -> None:
    incident = new_incident()
    store.seed(incident)
    entry = TimelineEntry(NOW, TimelineKind.PAGED, "system", "sms", {"channel": "sms"})
    store.escalations.record_send(incident.id, [entry], page_id="run/s/level/alice", sent=("sms",), now=NOW)
    assert store.escalations.sent_channels(incident.id, "run/s/level/alice") == ("sms",)
    assert store.escalations.sent_channels(incident.id, "run/s/level/bob") == ()
    view = store.incidents.view(incident.id)
    assert view is not None and [e.detail for e in view.timeline] == ["sms"]


def check_a_code_is_live_for_one_incident_only(store: Store) -> None:
    first, second = new_incident().id, new_incident().id
    code, other = f"{uuid.uuid4().int % 10**6:06d}", f"{uuid.uuid4().int % 10**6:06d}"
    draws = iter([code, other])
    assert store.codes.ack_code(first, lambda: code, NOW) == code
    assert store.codes.ack_code(first, lambda: other, NOW) == code  # renewed, not replaced
    assert store.codes.ack_code(second, lambda: next(draws), NOW) == other  # the live one is drawn past
    assert store.codes.bind_number(code, first, "+14255550101", NOW)
    assert not store.codes.bind_number(code, second, "+14255550102", NOW)  # not its code
    assert store.codes.code_binding(code, NOW) == (first, ["+14255550101"])


def check_a_freed_code_answers_late_replies_then_goes_back_to_the_pool(store: Store) -> None:
    first, later = new_incident().id, new_incident().id
    code = f"{uuid.uuid4().int % 10**6:06d}"
    assert store.codes.ack_code(first, lambda: code, NOW) == code
    assert store.codes.free_ack_code(first, NOW, timedelta(hours=1)) == code
    assert store.codes.code_binding(code, NOW + timedelta(minutes=59)) == (first, [])
    assert store.codes.code_binding(code, NOW + timedelta(hours=1)) is None
    assert store.codes.ack_code(later, lambda: code, NOW + timedelta(hours=1, seconds=1)) == code


def check_a_link_is_used_once_and_a_reply_answered_once_a_minute(store: Store) -> None:
    nonce, number = uuid.uuid4().hex, f"+1425555{uuid.uuid4().int % 10**4:04d}"
    expires = NOW + timedelta(hours=1)
    assert store.codes.use_link_nonce(nonce, "INC-1", expires, NOW)
    assert not store.codes.use_link_nonce(nonce, "INC-1", expires, NOW)
    store.codes.release_link_nonce(nonce)
    assert store.codes.use_link_nonce(nonce, "INC-1", expires, NOW)

    assert store.codes.claim_sms_reply(number, NOW)
    assert not store.codes.claim_sms_reply(number, NOW + timedelta(seconds=59))
    assert store.codes.claim_sms_reply(number, NOW + timedelta(minutes=1))


def check_a_services_changes_are_read_by_time_window(store: Store) -> None:
    service = f"contract-{uuid.uuid4().hex[:6]}"
    at = [NOW - timedelta(minutes=minutes) for minutes in (90, 60, 30, 1, 0)]
    changes = [
        service_change(service, moment, f"deploy {index} <b>&", source="ci", custom_details={"n": index})
        for index, moment in enumerate(at)
    ]
    linked = service_change(
        service,
        NOW + timedelta(minutes=1),
        "after",
        links=[ChangeLink("https://ci.example/1", "build"), ChangeLink("x")],
    )
    for change in [*changes, linked, changes[2]]:  # the same change twice is one change
        store.changes.record(change, NOW)
    store.changes.record(service_change(f"{service}-other", NOW, "another service's"), NOW)

    window = store.changes.recent(service, NOW - timedelta(minutes=60), NOW)
    assert window == changes[1:]  # both ends included, oldest first, one of each
    assert store.changes.recent(service, NOW - timedelta(minutes=60), NOW, limit=2) == changes[3:]  # the latest
    assert store.changes.recent(service, NOW, NOW + timedelta(hours=1)) == [changes[4], linked]
    assert store.changes.recent(f"{service}-none", NOW - timedelta(days=1), NOW) == []


def check_a_subscription_is_confirmed_by_its_token_and_removed_by_it(store: Store) -> None:
    email = f"contract-{uuid.uuid4().hex[:6]}@example.com"
    later = NOW + timedelta(days=2)
    first = new_subscriber(email, frozenset({"api", "web"}), NOW, "token-1")
    assert store.subscribers.put_pending(first, later)
    assert store.subscribers.subscriber(email) == first
    assert email not in [found.email for found in store.subscribers.confirmed()]  # pending: mailed nothing

    again = new_subscriber(email, frozenset(), NOW + timedelta(minutes=1), "token-2")
    assert store.subscribers.put_pending(again, later)  # a pending address asks again: the new token wins
    assert store.subscribers.confirm(email, "token-1", NOW) is None  # the first mail's link is dead
    confirmed = store.subscribers.confirm(email, "token-2", NOW + timedelta(minutes=5))
    assert confirmed == replace(again, confirmed_at=NOW + timedelta(minutes=5))
    assert store.subscribers.confirm(email, "token-2", NOW + timedelta(hours=1)) == confirmed  # the first time kept
    assert [found for found in store.subscribers.confirmed() if found.email == email] == [confirmed]

    third = new_subscriber(email, frozenset({"api"}), NOW + timedelta(hours=2), "token-3")
    assert not store.subscribers.put_pending(third, later)  # confirmed: never a second subscription
    assert store.subscribers.subscriber(email) == confirmed

    assert not store.subscribers.remove(email, "token-1")
    assert store.subscribers.remove(email, "token-2")
    assert store.subscribers.subscriber(email) is None
    assert not store.subscribers.remove(email, "token-2")  # gone: nothing to do
    assert store.subscribers.confirm(email, "token-2", NOW) is None


def check_a_news_mailing_progress_is_read_back_as_written(store: Store) -> None:
    key = f"INC-{uuid.uuid4().hex[:6]}:updated:2"
    assert store.subscribers.notice_progress(key) is None  # never mailed
    store.subscribers.record_notice_progress(key, NoticeProgress(False, "m@example.com"), NOW)
    assert store.subscribers.notice_progress(key) == NoticeProgress(False, "m@example.com")
    store.subscribers.record_notice_progress(key, NoticeProgress(True, None), NOW)  # nobody to mail is done too
    assert store.subscribers.notice_progress(key) == NoticeProgress(True, None)
    assert store.subscribers.notice_progress(key.replace(":2", ":3")) is None  # the next update is other news
    assert all(found.email != "m@example.com" for found in store.subscribers.confirmed())  # not a subscriber


def check_an_incidents_slack_message_is_claimed_once_and_saved_by_version(store: Store) -> None:
    incident_id = new_incident().id
    lease = timedelta(minutes=5)
    assert store.slack_threads.slack_thread(incident_id) is None
    claim = store.slack_threads.claim_slack_thread(incident_id, NOW, lease)
    assert claim is not None and not claim.posted
    assert store.slack_threads.claim_slack_thread(incident_id, NOW + timedelta(minutes=1), lease) is None  # one wins
    posted = store.slack_threads.save_slack_thread(replace(claim, channel="C0INCIDENTS", ts="1700000000.000100"))
    assert posted is not None and posted.version == claim.version + 1
    assert store.slack_threads.slack_thread(incident_id) == posted
    assert store.slack_threads.save_slack_thread(replace(claim, replies=3)) is None  # a stale version changes nothing
    later = store.slack_threads.save_slack_thread(replace(posted, replies=2, incident_channel="C0INC", invited=("U1",)))
    assert later == replace(posted, replies=2, incident_channel="C0INC", invited=("U1",), version=posted.version + 1)
    assert store.slack_threads.slack_thread(incident_id) == later
    assert store.slack_threads.claim_slack_thread(incident_id, NOW + timedelta(hours=1), lease) is None  # posted

    stuck = new_incident().id  # claimed, and the post's ts never written (the function died between the two)
    first = store.slack_threads.claim_slack_thread(stuck, NOW, lease)
    assert first is not None
    assert store.slack_threads.claim_slack_thread(stuck, NOW + timedelta(minutes=4), lease) is None  # still live
    taken = store.slack_threads.claim_slack_thread(stuck, NOW + timedelta(minutes=6), lease)
    assert taken is not None and taken.claimed_at == NOW + timedelta(minutes=6)
    assert store.slack_threads.save_slack_thread(replace(first, ts="1.1", channel="C1")) is None  # the old claim lost
    assert isinstance(taken, SlackThread)


CHECKS = [
    check_a_change_from_a_stale_read_is_refused,
    check_a_delivery_is_applied_once,
    check_a_later_attempt_takes_over_the_wait,
    check_a_held_wait_keeps_its_level,
    check_a_page_task_remembers_what_it_sent,
    check_a_code_is_live_for_one_incident_only,
    check_a_freed_code_answers_late_replies_then_goes_back_to_the_pool,
    check_a_link_is_used_once_and_a_reply_answered_once_a_minute,
    check_a_services_changes_are_read_by_time_window,
    check_a_subscription_is_confirmed_by_its_token_and_removed_by_it,
    check_a_news_mailing_progress_is_read_back_as_written,
    check_an_incidents_slack_message_is_claimed_once_and_saved_by_version,
]
