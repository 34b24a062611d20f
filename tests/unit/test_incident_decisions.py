"""What a signal does to an incident: pure decisions, no store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siren.domain.incidents import (
    IncidentError,
    IncidentStatus,
    KeyState,
    LifecycleEventType,
    SeverityDecision,
    TimelineKind,
    change_severity,
    check_signal_time,
    decide,
    resolve,
)
from siren.domain.policy import InsufficientData, OnRecovery, ServicePolicy
from siren.domain.signals import ParseError, Signal, SignalStatus, Source

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SEV = SeverityDecision("SEV2", "service-default", "service default")


def signal(status: SignalStatus = SignalStatus.FIRING, delivery: str = "d1", **details: str) -> Signal:
    return Signal(Source.CLOUDWATCH, delivery, "cloudwatch:arn:alarm:x", status, "x is broken", T0, details=details)


class Model:
    """Replays decisions the way the store would apply them."""

    def __init__(self, policy: ServicePolicy | None = None) -> None:
        self.policy = policy or ServicePolicy()
        self.key = KeyState("cloudwatch:arn:alarm:x")
        self.incident = None
        self.opened = 0
        self.events: list[LifecycleEventType] = []

    def feed(self, status: SignalStatus, at: datetime) -> str:
        incident = self.incident if self.incident and self.incident.status is not IncidentStatus.RESOLVED else None
        outcome = decide(
            signal(status),
            key_state=self.key,
            incident=incident,
            service="svc",
            severity=SEV,
            policy=self.policy,
            now=at,
        )
        if outcome.key_state is not None:
            self.key = outcome.key_state
        if outcome.incident is not None:
            self.incident = outcome.incident
        self.opened += outcome.action == "opened"
        self.events.extend(event.detail_type for event in outcome.events)
        return outcome.action


def test_first_trigger_opens_and_records_the_severity_rule():
    outcome = decide(
        signal(), key_state=KeyState("k"), incident=None, service="svc", severity=SEV, policy=ServicePolicy(), now=T0
    )
    assert outcome.action == "opened"
    assert outcome.incident and outcome.incident.status is IncidentStatus.OPEN and outcome.incident.severity == "SEV2"
    assert [e.kind for e in outcome.timeline] == [TimelineKind.OPENED, TimelineKind.SEVERITY_CHANGED]
    assert [e.detail_type for e in outcome.events] == [LifecycleEventType.OPENED]
    assert outcome.key_state and outcome.key_state.open_incident_id == outcome.incident.id


def test_duplicates_append_and_never_reopen_or_page():
    model = Model()
    assert model.feed(SignalStatus.FIRING, T0) == "opened"
    for minute in range(1, 6):
        assert model.feed(SignalStatus.FIRING, T0 + timedelta(minutes=minute)) == "appended"
    assert model.incident.alert_count == 6
    assert model.events == [LifecycleEventType.OPENED]


def test_resolve_then_trigger_opens_a_new_incident():
    model = Model(ServicePolicy(flapping_transitions=10))
    model.feed(SignalStatus.FIRING, T0)
    first = model.incident.id
    assert model.feed(SignalStatus.RESOLVED, T0 + timedelta(minutes=1)) == "resolved"
    assert model.feed(SignalStatus.FIRING, T0 + timedelta(minutes=2)) == "opened"
    assert model.incident.id != first and model.opened == 2


def test_recover_policy_waits_for_a_person():
    model = Model(ServicePolicy(on_recovery=OnRecovery.RECOVER))
    model.feed(SignalStatus.FIRING, T0)
    assert model.feed(SignalStatus.RESOLVED, T0 + timedelta(minutes=1)) == "recovered"
    assert model.incident.status is IncidentStatus.RECOVERED
    assert model.feed(SignalStatus.FIRING, T0 + timedelta(minutes=2)) == "retriggered"
    assert model.incident.status is IncidentStatus.OPEN and model.opened == 1


def test_insufficient_data_is_ignored_unless_configured():
    ignored = decide(
        signal(SignalStatus.INSUFFICIENT_DATA),
        key_state=KeyState("k"),
        incident=None,
        service="s",
        severity=SEV,
        policy=ServicePolicy(),
        now=T0,
    )
    assert ignored.action == "ignored" and ignored.incident is None and ignored.key_state is None
    alerting = decide(
        signal(SignalStatus.INSUFFICIENT_DATA),
        key_state=KeyState("k"),
        incident=None,
        service="s",
        severity=SEV,
        policy=ServicePolicy(insufficient_data=InsufficientData.ALERT),
        now=T0,
    )
    assert alerting.action == "opened"


def test_suppressed_composite_alarm_actions_do_not_open():
    outcome = decide(
        signal(actions_suppressed_by="WaitPeriod"),
        key_state=KeyState("k"),
        incident=None,
        service="s",
        severity=SEV,
        policy=ServicePolicy(),
        now=T0,
    )
    assert outcome.action == "ignored"


def test_flapping_alarm_stops_paging():
    model = Model(ServicePolicy(flapping_transitions=4, flapping_window=timedelta(minutes=30)))
    statuses = [SignalStatus.FIRING, SignalStatus.RESOLVED] * 10
    for minute, status in enumerate(statuses):
        model.feed(status, T0 + timedelta(minutes=minute))
    # Opened at transition 1 and again at 3 (after one resolve); from transition 4 on it is held open.
    assert model.opened == 2
    assert model.incident.flapping and model.incident.status is not IncidentStatus.RESOLVED


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.sampled_from([SignalStatus.FIRING, SignalStatus.RESOLVED]), st.integers(0, 120)), max_size=60)
)
def test_pages_are_bounded_whatever_the_sequence(steps):
    """Within one flap window an alarm opens at most ceil(N/2) incidents, however it flips."""
    policy = ServicePolicy(flapping_transitions=4, flapping_window=timedelta(hours=3))
    model = Model(policy)
    at = T0
    for status, gap in steps:
        at += timedelta(seconds=gap)
        model.feed(status, at)
    assert model.opened <= 2
    assert model.events.count(LifecycleEventType.OPENED) == model.opened


def test_signals_from_the_future_are_refused():
    check_signal_time(replace(signal(), occurred_at=T0 + timedelta(minutes=4)), T0)
    with pytest.raises(ParseError, match="in the future"):
        check_signal_time(replace(signal(), occurred_at=T0 + timedelta(hours=1)), T0)


def test_people_change_severity_and_resolve():
    model = Model()
    model.feed(SignalStatus.FIRING, T0)
    raised = change_severity(model.incident, "sev1", "alice", T0)
    assert raised.incident.severity == "SEV1" and raised.events[0].detail["raised"] is True
    assert change_severity(model.incident, "SEV2", "alice", T0).action == "ignored"
    with pytest.raises(IncidentError, match="SEV1"):
        change_severity(model.incident, "P1", "alice", T0)
    done = resolve(model.incident, "alice", "rolled back", T0)
    assert done.incident.status is IncidentStatus.RESOLVED and done.timeline[0].detail.endswith("rolled back")
    with pytest.raises(IncidentError, match="already resolved"):
        resolve(done.incident, "bob", None, T0)
