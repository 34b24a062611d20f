"""What a signal does to an incident: open, append, retrigger, recover, resolve, or nothing; flapping kept quiet.

Semantics (PagerDuty's dedup_key model): a firing signal whose dedup key has an unresolved incident is
appended to it (count, last seen), never a second incident; a trigger after the incident resolved opens a new
one. A resolved signal resolves the incident, or marks it "recovered" for a person to resolve, by the
service's policy. A key that flips between firing and resolved too often ("flapping") is kept from resolving,
so its next trigger is appended instead of paging again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from siren.domain.incidents.model import (
    MAX_CLOCK_SKEW,
    SYSTEM_ACTOR,
    Incident,
    IncidentStatus,
    KeyState,
    LifecycleEvent,
    LifecycleEventType,
    Outcome,
    TimelineEntry,
    TimelineKind,
    new_incident_id,
)
from siren.domain.policy import InsufficientData, OnRecovery, ServicePolicy
from siren.domain.severity import SeverityDecision
from siren.domain.signals import ParseError, Signal, SignalStatus


def check_signal_time(signal: Signal, now: datetime) -> None:
    if signal.occurred_at > now + MAX_CLOCK_SKEW:
        raise ParseError(
            f"occurred_at {signal.occurred_at.isoformat()} is more than {int(MAX_CLOCK_SKEW.total_seconds() // 60)} "
            f"minutes in the future (now {now.isoformat()})"
        )


def _effective_status(signal: Signal, policy: ServicePolicy) -> SignalStatus | None:
    if signal.status is not SignalStatus.INSUFFICIENT_DATA:
        return signal.status
    return {
        InsufficientData.IGNORE: None,
        InsufficientData.ALERT: SignalStatus.FIRING,
        InsufficientData.RECOVER: SignalStatus.RESOLVED,
    }[policy.insufficient_data]


def _with_transition(state: KeyState, status: SignalStatus, at: datetime, policy: ServicePolicy) -> KeyState:
    """The key state after a signal; a change of status is a transition, kept only within the flap window."""
    transitions = state.transitions
    if state.last_status is not status:
        transitions = (*transitions, at)
    horizon = at - policy.flapping_window
    transitions = tuple(t for t in transitions if t >= horizon)[-max(policy.flapping_transitions, 1) * 2 :]
    return replace(state, last_status=status, transitions=transitions, version=state.version + 1)


def is_flapping(state: KeyState, policy: ServicePolicy) -> bool:
    return len(state.transitions) >= policy.flapping_transitions


def decide(
    signal: Signal,
    *,
    key_state: KeyState,
    incident: Incident | None,
    service: str,
    severity: SeverityDecision,
    policy: ServicePolicy,
    now: datetime,
) -> Outcome:
    """What ``signal`` does, given the key's state and its unresolved incident (if any)."""
    actor = f"{signal.source}"
    status = _effective_status(signal, policy)
    if status is None:
        return Outcome("ignored", f"{signal.status} is ignored for service {service} (insufficient_data: ignore)")
    if signal.details.get("actions_suppressed_by"):
        return Outcome("ignored", f"alarm actions are suppressed by {signal.details['actions_suppressed_by']}")
    if signal.details.get("muted_by"):
        return Outcome("ignored", f"the alarm is muted by {signal.details['muted_by']}")
    if signal.details.get("alarm_type") == "multi_time_series" and not signal.details.get("contributor_id"):
        # Each time series (contributor) of a Metrics Insights alarm is its own incident; the alarm-level
        # event would page a second time for the same problem.
        return Outcome("ignored", "multi-time-series alarm: its contributors are the incidents")
    next_state = _with_transition(key_state, status, now, policy)
    flapping = is_flapping(next_state, policy)
    alert_data = {"delivery_id": signal.delivery_id, "status": str(signal.status), "summary": signal.summary[:500]}

    if status is SignalStatus.FIRING:
        if incident is None:
            return _open(signal, next_state, service, severity, now, actor=actor, flapping=flapping)
        appended = replace(
            incident,
            alert_count=incident.alert_count + 1,
            last_seen_at=max(incident.last_seen_at, now),
            flapping=incident.flapping or flapping,
            version=incident.version + 1,
        )
        if incident.status is IncidentStatus.RECOVERED:
            # The thing came back before anyone resolved it: same incident, no new page.
            retriggered = replace(appended, status=IncidentStatus.OPEN, recovered_at=None)
            entries = [TimelineEntry(now, TimelineKind.RETRIGGERED, actor, f"firing again: {signal.title}", alert_data)]
            if flapping and not incident.flapping:
                entries.append(_flapping_entry(next_state, policy, now))
            return Outcome(
                "retriggered",
                "firing again while recovered",
                retriggered,
                incident,
                next_state,
                tuple(entries),
                (LifecycleEvent(LifecycleEventType.UPDATED, retriggered.event_detail(change="retriggered")),),
            )
        entry = TimelineEntry(now, TimelineKind.ALERT_APPENDED, actor, f"alert #{appended.alert_count}", alert_data)
        key_update = next_state if next_state.transitions != key_state.transitions else None
        return Outcome("appended", "duplicate of an unresolved incident", appended, incident, key_update, (entry,))

    # Resolved.
    if incident is None:
        return Outcome("ignored", "resolved signal with no unresolved incident", key_state=next_state)
    if incident.status is IncidentStatus.RECOVERED and not flapping:
        return Outcome("ignored", "already recovered; waiting for a person to resolve", key_state=next_state)
    if policy.on_recovery is OnRecovery.RECOVER or flapping:
        why = "flapping: kept open so the next trigger does not page again" if flapping else "service policy"
        recovered = replace(
            incident,
            status=IncidentStatus.RECOVERED,
            recovered_at=now,
            flapping=incident.flapping or flapping,
            last_seen_at=max(incident.last_seen_at, now),
            version=incident.version + 1,
        )
        entries = [
            TimelineEntry(now, TimelineKind.RECOVERED, actor, f"recovered ({why}); a person resolves it", alert_data)
        ]
        if flapping and not incident.flapping:
            entries.append(_flapping_entry(next_state, policy, now))
        return Outcome(
            "recovered",
            why,
            recovered,
            incident,
            next_state,
            tuple(entries),
            (LifecycleEvent(LifecycleEventType.UPDATED, recovered.event_detail(change="recovered")),),
        )
    resolved = replace(
        incident,
        status=IncidentStatus.RESOLVED,
        resolved_at=now,
        resolved_by=actor,
        last_seen_at=max(incident.last_seen_at, now),
        version=incident.version + 1,
    )
    resolved_state = replace(next_state, open_incident_id=None)
    entry = TimelineEntry(now, TimelineKind.RESOLVED, actor, "resolved by the source's recovery signal", alert_data)
    return Outcome(
        "resolved",
        "recovery signal",
        resolved,
        incident,
        resolved_state,
        (entry,),
        (LifecycleEvent(LifecycleEventType.RESOLVED, resolved.event_detail(resolved_by=actor)),),
    )


def _flapping_entry(state: KeyState, policy: ServicePolicy, now: datetime) -> TimelineEntry:
    minutes = int(policy.flapping_window.total_seconds() // 60)
    return TimelineEntry(
        now,
        TimelineKind.FLAPPING,
        SYSTEM_ACTOR,
        f"flapping: {len(state.transitions)} transitions in {minutes} minutes; it will not page again",
        {"transitions": len(state.transitions)},
    )


def _open(
    signal: Signal,
    state: KeyState,
    service: str,
    severity: SeverityDecision,
    now: datetime,
    *,
    actor: str,
    flapping: bool,
) -> Outcome:
    incident = Incident(
        id=new_incident_id(now),
        status=IncidentStatus.OPEN,
        severity=severity.severity,
        title=signal.title,
        service=service,
        dedup_key=signal.dedup_key,
        source=str(signal.source),
        opened_at=now,
        last_seen_at=now,
        summary=signal.summary,
        link=signal.link,
        severity_rule=severity.rule,
        flapping=flapping,
        drill=signal.drill,
        drill_participants=signal.participants,
        canary=signal.canary,
    )
    entries = (
        TimelineEntry(
            now,
            TimelineKind.OPENED,
            actor,
            f"opened: {signal.title}",
            {
                "delivery_id": signal.delivery_id,
                "occurred_at": signal.occurred_at.isoformat(),
                "details": dict(signal.details),
            },
        ),
        TimelineEntry(
            now,
            TimelineKind.SEVERITY_CHANGED,
            SYSTEM_ACTOR,
            f"severity {severity.severity}: {severity.reason}",
            {"severity": severity.severity, "rule": severity.rule},
        ),
    )
    return Outcome(
        "opened",
        "first signal for this key",
        incident,
        None,
        replace(state, open_incident_id=incident.id),
        entries,
        (LifecycleEvent(LifecycleEventType.OPENED, incident.event_detail(severity_rule=severity.rule)),),
    )
