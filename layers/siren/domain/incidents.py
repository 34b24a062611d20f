"""Incidents and what a signal does to them. Pure: the store reads and writes, this module decides.

Semantics (PagerDuty's dedup_key model): a firing signal whose dedup key has an unresolved incident is
appended to it (count, last seen), never a second incident; a trigger after the incident resolved opens a new
one. A resolved signal resolves the incident, or marks it "recovered" for a person to resolve, by the
service's policy. A key that flips between firing and resolved too often ("flapping") is kept from resolving,
so its next trigger is appended instead of paging again.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from siren.domain.policy import InsufficientData, OnRecovery, ServicePolicy
from siren.domain.signals import SEVERITIES, ParseError, Signal, SignalStatus

# A signal stamped further ahead than this is refused: clocks drift, but not by this much.
MAX_CLOCK_SKEW = timedelta(minutes=5)
SYSTEM_ACTOR = "siren"


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RECOVERED = "recovered"
    RESOLVED = "resolved"


UNRESOLVED = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RECOVERED)


class TimelineKind(enum.StrEnum):
    OPENED = "opened"
    ALERT_APPENDED = "alert_appended"
    SEVERITY_CHANGED = "severity_changed"
    ACKNOWLEDGED = "acknowledged"
    RECOVERED = "recovered"
    RETRIGGERED = "retriggered"
    RESOLVED = "resolved"
    FLAPPING = "flapping"
    ROLE_ASSIGNED = "role_assigned"
    UPDATE_POSTED = "update_posted"
    ESCALATED = "escalated"
    PAGED = "paged"
    PAGE_FAILED = "page_failed"
    ESCALATION_FAILED = "escalation_failed"
    ESCALATION_ENDED = "escalation_ended"
    ESCALATION_REPAIRED = "escalation_repaired"  # the reconciler fixed an escalation a lost event left wrong
    POSTMORTEM_WRITTEN = "postmortem_written"
    NOTE = "note"  # an internal note from a responder ("rolled back 4.2.1"): never public
    ACTION_ITEM_ADDED = "action_item_added"


class LifecycleEventType(enum.StrEnum):
    """EventBridge detail-types on Siren's own bus; escalation, status page and reports react to these."""

    OPENED = "Incident Opened"
    ACKNOWLEDGED = "Incident Acknowledged"
    RESOLVED = "Incident Resolved"
    SEVERITY_CHANGED = "Severity Changed"
    UPDATED = "Incident Updated"
    # Not about one incident: a component status set by hand, or maintenance scheduled (the status page).
    STATUS_CHANGED = "Status Page Changed"


EVENT_SOURCE = "siren.incidents"


class IncidentError(ValueError):
    """A request about an incident that cannot be honoured (unknown id, already resolved...)."""


@dataclass(frozen=True, slots=True)
class SeverityChoice:
    severity: str
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class PublicNote:
    """A public update as a person wrote it: ``status`` is investigating, identified, monitoring or resolved."""

    at: datetime
    status: str
    body: str
    author: str

    def to_json(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "status": self.status, "body": self.body, "author": self.author}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublicNote:
        return cls(
            datetime.fromisoformat(str(data["at"])), str(data["status"]), str(data["body"]), str(data.get("author", ""))
        )


PUBLIC_STATUSES = ("investigating", "identified", "monitoring", "resolved")
PUBLIC_BODY_MAX = 5000
PUBLIC_TITLE_MAX = 200


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    status: IncidentStatus
    severity: str
    title: str
    service: str
    dedup_key: str
    source: str
    opened_at: datetime
    last_seen_at: datetime
    alert_count: int = 1
    summary: str = ""
    link: str | None = None
    severity_rule: str = ""
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    recovered_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    flapping: bool = False
    version: int = 1
    # Incident roles: role (commander, comms, sme) -> user.
    roles: Mapping[str, str] = field(default_factory=dict)
    # What customers see (the status page): written by people only, never derived from the alert.
    public_title: str | None = None
    public_updates: tuple[PublicNote, ...] = ()  # oldest first
    # A game-day drill (siren gameday): pages only its participants, stays off the status page and out of reports.
    drill: bool = False
    drill_participants: tuple[str, ...] = ()
    # Siren's end-to-end canary: pages nobody (a dry run), stays off the status page, chat and reports, resolves
    # itself, and is hidden from `siren incidents list` unless --all.
    canary: bool = False

    def event_detail(self, **extra: Any) -> dict[str, Any]:
        """What lifecycle events carry: enough for consumers to act without reading the store."""
        detail: dict[str, Any] = {
            "incident_id": self.id,
            "status": str(self.status),
            "severity": self.severity,
            "title": self.title,
            "service": self.service,
            "dedup_key": self.dedup_key,
            "opened_at": self.opened_at.isoformat(),
            "alert_count": self.alert_count,
            "version": self.version,
            "drill": self.drill,
            "canary": self.canary,
        }
        detail.update(extra)
        return detail


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: TimelineKind
    actor: str
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    detail_type: LifecycleEventType
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class KeyState:
    """What the store remembers of one dedup key between incidents: its open incident and recent flips."""

    dedup_key: str
    open_incident_id: str | None = None
    last_status: SignalStatus | None = None
    transitions: tuple[datetime, ...] = ()
    version: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to write, all or nothing. ``incident`` is the incident after the change (None when ignored)."""

    action: str  # opened | appended | retriggered | recovered | resolved | ignored
    reason: str
    incident: Incident | None = None
    previous: Incident | None = None
    key_state: KeyState | None = None  # None: the key state does not change
    timeline: tuple[TimelineEntry, ...] = ()
    events: tuple[LifecycleEvent, ...] = ()

    @property
    def changes_state(self) -> bool:
        return self.action != "ignored"


def new_incident_id(at: datetime) -> str:
    """Sortable by time, unique without coordination: INC-20261126-2341-3f9c1a."""
    return f"INC-{at:%Y%m%d-%H%M}-{uuid.uuid4().hex[:6]}"


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
    severity: SeverityChoice,
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
    severity: SeverityChoice,
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


# -- changes people make ---------------------------------------------------------------------------------
def change_severity(incident: Incident, severity: str, actor: str, now: datetime) -> Outcome:
    severity = normalize_severity(severity)
    if incident.status is IncidentStatus.RESOLVED:
        raise IncidentError(f"{incident.id} is resolved; its severity can no longer change")
    if severity == incident.severity:
        return Outcome("ignored", f"{incident.id} is already {severity}")
    changed = replace(incident, severity=severity, severity_rule="manual", version=incident.version + 1)
    raised = SEVERITIES.index(severity) < SEVERITIES.index(incident.severity)
    entry = TimelineEntry(
        now,
        TimelineKind.SEVERITY_CHANGED,
        actor,
        f"severity {incident.severity} -> {severity}",
        {"severity": severity, "previous": incident.severity, "rule": "manual"},
    )
    detail = changed.event_detail(previous_severity=incident.severity, raised=raised, changed_by=actor)
    return Outcome(
        "severity_changed",
        "changed by a person",
        changed,
        incident,
        None,
        (entry,),
        (LifecycleEvent(LifecycleEventType.SEVERITY_CHANGED, detail),),
    )


def resolve(incident: Incident, actor: str, note: str | None, now: datetime) -> Outcome:
    if incident.status is IncidentStatus.RESOLVED:
        raise IncidentError(f"{incident.id} is already resolved")
    resolved = replace(
        incident, status=IncidentStatus.RESOLVED, resolved_at=now, resolved_by=actor, version=incident.version + 1
    )
    text = f"resolved by {actor}" + (f": {note}" if note else "")
    entry = TimelineEntry(now, TimelineKind.RESOLVED, actor, text, {"note": note} if note else {})
    event = LifecycleEvent(LifecycleEventType.RESOLVED, resolved.event_detail(resolved_by=actor))
    return Outcome("resolved", "resolved by a person", resolved, incident, None, (entry,), (event,))


def acknowledge(incident: Incident, actor: str, via: str, now: datetime) -> Outcome:
    if incident.status is IncidentStatus.RESOLVED:
        raise IncidentError(f"{incident.id} is resolved; there is nothing to acknowledge")
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return Outcome("ignored", f"{incident.id} was already acknowledged by {incident.acknowledged_by}")
    acknowledged = replace(
        incident,
        status=IncidentStatus.ACKNOWLEDGED,
        acknowledged_at=now,
        acknowledged_by=actor,
        version=incident.version + 1,
    )
    entry = TimelineEntry(now, TimelineKind.ACKNOWLEDGED, actor, f"acknowledged by {actor} via {via}", {"via": via})
    detail = acknowledged.event_detail(acknowledged_by=actor, via=via)
    return Outcome(
        "acknowledged",
        via,
        acknowledged,
        incident,
        None,
        (entry,),
        (LifecycleEvent(LifecycleEventType.ACKNOWLEDGED, detail),),
    )


ROLES = ("commander", "comms", "sme")


def assign_role(incident: Incident, role: str, user: str, actor: str, now: datetime) -> Outcome:
    if role not in ROLES:
        raise IncidentError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if incident.status is IncidentStatus.RESOLVED:
        raise IncidentError(f"{incident.id} is resolved; roles can no longer change")
    if incident.roles.get(role) == user:
        return Outcome("ignored", f"{user} is already {role} of {incident.id}")
    changed = replace(incident, roles={**incident.roles, role: user}, version=incident.version + 1)
    entry = TimelineEntry(
        now, TimelineKind.ROLE_ASSIGNED, actor, f"{user} is {role} (assigned by {actor})", {"role": role, "user": user}
    )
    detail = changed.event_detail(change="role_assigned", role=role, user=user)
    return Outcome(
        "role_assigned",
        "assigned by a person",
        changed,
        incident,
        None,
        (entry,),
        (LifecycleEvent(LifecycleEventType.UPDATED, detail),),
    )


def post_public_update(
    incident: Incident, body: str, status: str, actor: str, now: datetime, *, title: str | None = None
) -> Outcome:
    """A person's update for the status page (and optionally its public title). It is public text, so it is
    checked for being written at all, not for content: the status page escapes everything it shows."""
    text = body.strip()
    if not text:
        raise IncidentError("a public update needs some text")
    if len(text) > PUBLIC_BODY_MAX:
        raise IncidentError(f"a public update is at most {PUBLIC_BODY_MAX} characters, got {len(text)}")
    if status not in PUBLIC_STATUSES:
        raise IncidentError(f"status must be one of {', '.join(PUBLIC_STATUSES)}, got {status!r}")
    public_title = incident.public_title
    if title is not None:
        public_title = " ".join(title.split())
        if not public_title or len(public_title) > PUBLIC_TITLE_MAX:
            raise IncidentError(f"a public title is 1 to {PUBLIC_TITLE_MAX} characters")
    note = PublicNote(now, status, text, actor)
    changed = replace(
        incident,
        public_title=public_title,
        public_updates=(*incident.public_updates, note),
        version=incident.version + 1,
    )
    entry = TimelineEntry(
        now,
        TimelineKind.UPDATE_POSTED,
        actor,
        f"public update ({status}): {text}",
        {"public": True, "status": status, "title": public_title},
    )
    detail = changed.event_detail(change="public_update", public_status=status)
    return Outcome(
        "updated",
        "public update posted",
        changed,
        incident,
        None,
        (entry,),
        (LifecycleEvent(LifecycleEventType.UPDATED, detail),),
    )


_SEVERITY = re.compile(r"^sev([1-5])$", re.IGNORECASE)


def normalize_severity(value: str) -> str:
    match = _SEVERITY.match(value.strip())
    if not match:
        raise IncidentError(f"severity must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return f"SEV{match.group(1)}"


def sort_newest_first(incidents: Sequence[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda incident: incident.opened_at, reverse=True)
