"""Heartbeat deadlines (siren.domain.heartbeats): the status at an instant and what the check must report.

GIVEN a heartbeat's interval, grace and what the store remembers, WHEN time passes and pings come, THEN its status
is up, late, down or never at the right instants, a missed deadline is reported once, and every reported miss is
followed by exactly one recovery once the job pings again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from siren.domain.heartbeats import Action, HeartbeatState, HeartbeatStatus, Verdict, reading, verdict

T0 = datetime(2026, 3, 8, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
INTERVAL, GRACE = timedelta(minutes=60), timedelta(minutes=15)


def status_at(state: HeartbeatState, minutes: float) -> HeartbeatStatus:
    return reading(INTERVAL, GRACE, state, T0 + timedelta(minutes=minutes)).status


def test_a_pinged_heartbeat_is_up_then_late_then_down_at_its_deadlines():
    state = HeartbeatState(first_seen_at=T0 - HOUR, last_ping_at=T0)

    assert status_at(state, 0) is HeartbeatStatus.UP
    assert status_at(state, 59.9) is HeartbeatStatus.UP
    assert status_at(state, 60) is HeartbeatStatus.LATE  # due at T0 + interval
    assert status_at(state, 74.9) is HeartbeatStatus.LATE
    assert status_at(state, 75) is HeartbeatStatus.DOWN  # interval + grace
    current = reading(INTERVAL, GRACE, state, T0)
    assert (current.due_at, current.deadline) == (T0 + INTERVAL, T0 + INTERVAL + GRACE)


def test_a_heartbeat_never_pinged_counts_from_when_siren_first_saw_it():
    assert reading(INTERVAL, GRACE, HeartbeatState(), T0).status is HeartbeatStatus.NEVER
    assert reading(INTERVAL, GRACE, HeartbeatState(), T0).deadline is None  # not seen yet: no deadline

    seen = HeartbeatState(first_seen_at=T0)
    assert status_at(seen, 70) is HeartbeatStatus.NEVER  # within its first deadline: never, not late
    assert status_at(seen, 75) is HeartbeatStatus.DOWN


def test_without_grace_a_heartbeat_is_never_late():
    state = HeartbeatState(first_seen_at=T0, last_ping_at=T0)
    assert reading(INTERVAL, timedelta(0), state, T0 + INTERVAL - timedelta(seconds=1)).status is HeartbeatStatus.UP
    assert reading(INTERVAL, timedelta(0), state, T0 + INTERVAL).status is HeartbeatStatus.DOWN


def test_a_missed_deadline_is_reported_once_and_recovered_once_after_the_next_ping():
    state = HeartbeatState(first_seen_at=T0, last_ping_at=T0)
    deadline = T0 + INTERVAL + GRACE

    missed = verdict(INTERVAL, GRACE, state, deadline)
    assert missed == Verdict(Action.REPORT_MISSED, deadline)
    reported = replace(state, missed_deadline=deadline)
    assert verdict(INTERVAL, GRACE, reported, deadline + HOUR).action is Action.NOTHING  # not again

    pinged = replace(reported, last_ping_at=deadline + HOUR)
    assert verdict(INTERVAL, GRACE, pinged, deadline + HOUR) == Verdict(Action.REPORT_RECOVERED, deadline)
    assert verdict(INTERVAL, GRACE, replace(pinged, recovered=True), deadline + HOUR).action is Action.NOTHING


def test_a_never_pinged_heartbeat_is_reported_missed_at_its_first_deadline():
    seen = HeartbeatState(first_seen_at=T0)
    assert verdict(INTERVAL, GRACE, seen, T0 + INTERVAL).action is Action.NOTHING
    assert verdict(INTERVAL, GRACE, seen, T0 + INTERVAL + GRACE) == Verdict(Action.REPORT_MISSED, T0 + INTERVAL + GRACE)
    assert verdict(INTERVAL, GRACE, HeartbeatState(), T0 + 100 * HOUR).action is Action.NOTHING  # not seen: no clock


def test_delivery_ids_name_the_heartbeat_the_verdict_and_the_deadline():
    first = Verdict(Action.REPORT_MISSED, T0)
    assert first.delivery_id("backup") == Verdict(Action.REPORT_MISSED, T0).delivery_id("backup")
    assert first.delivery_id("backup") != Verdict(Action.REPORT_MISSED, T0 + HOUR).delivery_id("backup")
    assert first.delivery_id("backup") != Verdict(Action.REPORT_RECOVERED, T0).delivery_id("backup")
    assert first.delivery_id("backup") != first.delivery_id("restore")


minutes = st.integers(min_value=0, max_value=10_000)


@given(interval=st.integers(1, 1440), grace=st.integers(0, 240), ping=minutes, later=minutes, more=minutes)
def test_status_only_gets_worse_as_time_passes_without_a_ping(interval, grace, ping, later, more):
    order = [HeartbeatStatus.UP, HeartbeatStatus.LATE, HeartbeatStatus.DOWN]
    state = HeartbeatState(first_seen_at=T0, last_ping_at=T0 + timedelta(minutes=ping))
    at = T0 + timedelta(minutes=ping + later)
    first = reading(timedelta(minutes=interval), timedelta(minutes=grace), state, at).status
    second = reading(timedelta(minutes=interval), timedelta(minutes=grace), state, at + timedelta(minutes=more)).status
    assert order.index(first) <= order.index(second)
    assert (first is HeartbeatStatus.DOWN) == (later >= interval + grace)


# A timeline of checks and pings, applied the way the app applies verdicts: the incident a heartbeat would have.
steps = st.lists(st.tuples(st.sampled_from(["check", "ping"]), st.integers(0, 200)), max_size=40)


@given(interval=st.integers(1, 120), grace=st.integers(0, 60), timeline=steps)
def test_every_missed_deadline_opens_once_and_the_next_ping_closes_it(interval, grace, timeline):
    every, extra = timedelta(minutes=interval), timedelta(minutes=grace)
    state = HeartbeatState(first_seen_at=T0)
    now = T0
    reported_missed: list[datetime] = []
    open_incident = False
    for kind, gap in [*timeline, ("ping", 0), ("check", 0)]:
        now += timedelta(minutes=gap)
        if kind == "ping":
            state = replace(state, last_ping_at=now)
        decided = verdict(every, extra, state, now)
        if decided.action is Action.REPORT_MISSED:
            assert decided.deadline is not None and decided.deadline <= now
            assert decided.deadline not in reported_missed  # once per deadline
            reported_missed.append(decided.deadline)
            state = replace(state, missed_deadline=decided.deadline, recovered=False)
            open_incident = True
        elif decided.action is Action.REPORT_RECOVERED:
            assert decided.deadline == state.missed_deadline and open_incident  # only after a miss
            assert kind == "ping" or state.last_ping_at is not None
            state = replace(state, recovered=True)
            open_incident = False
        if kind == "check":
            # After a check, an incident is open exactly when the heartbeat is down.
            assert open_incident == (reading(every, extra, state, now).status is HeartbeatStatus.DOWN)
    assert not open_incident  # the last ping closed whatever was open
