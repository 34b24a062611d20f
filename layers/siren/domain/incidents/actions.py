"""What people do to an incident: acknowledge, resolve, change its severity, take a role, post a public update."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from siren.domain.escalation import WaitingAt
from siren.domain.incidents.model import (
    PUBLIC_BODY_MAX,
    PUBLIC_STATUSES,
    PUBLIC_TITLE_MAX,
    Incident,
    IncidentError,
    IncidentStatus,
    LifecycleEvent,
    LifecycleEventType,
    Outcome,
    PublicNote,
    TimelineEntry,
    TimelineKind,
)
from siren.domain.signals import SEVERITIES


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


# Two requests this close together are one: a double click, or two responders pressing the same button at once.
# Slack's buttons name the incident, not the level the person saw; by the second click the first may have moved the
# escalation on already, and a second level skipped by one impatient double click is a page to the wrong people.
SAME_REQUEST_WITHIN: Final = timedelta(seconds=30)


def requested_escalation(timeline: Sequence[TimelineEntry], waiting: WaitingAt) -> TimelineEntry | None:
    """The request to escalate now from ``waiting``'s level, if a person made one (the first)."""
    for entry in timeline:
        if entry.kind is TimelineKind.ESCALATION_REQUESTED and entry.data.get("from") == waiting.label:
            return entry
    return None


def request_escalation(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    waiting: WaitingAt | None,
    *,
    actor: str,
    via: str,
    now: datetime,
) -> Outcome:
    """A person asks to page the next level now instead of waiting out the level's delay.

    ``waiting``: the level the escalation's held wait is at (the store's record of it). The request is recorded on
    the timeline with the level it leaves; the escalation honours it from there (siren.app.escalation). Raises when
    it cannot be honoured at all (resolved, acknowledged, nothing held, the last level); a request for a level that
    was asked already, or one right after another, changes nothing (``ignored``, and says by whom)."""
    if incident.status is IncidentStatus.RESOLVED:
        raise IncidentError(f"{incident.id} is resolved; there is nothing to escalate")
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        raise IncidentError(
            f"{incident.id} was acknowledged by {incident.acknowledged_by}: its escalation has stopped, nobody more "
            "is paged (resolve it, or raise its severity to page again)"
        )
    if waiting is None or waiting.attempt < 1:
        raise IncidentError(
            f"{incident.id}'s escalation is not waiting on anyone right now (it is starting, or paging): "
            "try again in a moment"
        )
    if waiting.last:
        raise IncidentError(
            f"{incident.id} is at {waiting.describe()}, the last of its escalation policy: there is nobody further "
            "to page"
        )
    earlier = requested_escalation(timeline, waiting)
    if earlier is not None:
        asked = f"escalating {incident.id} from {waiting.describe()} was already asked by {earlier.actor}"
        return Outcome("ignored", asked)
    latest = max(
        (entry for entry in timeline if entry.kind is TimelineKind.ESCALATION_REQUESTED),
        key=lambda entry: entry.at,
        default=None,
    )
    if latest is not None and now - latest.at < SAME_REQUEST_WITHIN:
        seconds = max(int((now - latest.at).total_seconds()), 0)
        return Outcome(
            "ignored",
            f"{latest.actor} escalated {incident.id} {seconds} s ago; ask again if the level now paged does not answer",
        )
    requested = replace(incident, version=incident.version + 1)
    entry = TimelineEntry(
        now,
        TimelineKind.ESCALATION_REQUESTED,
        actor,
        f"escalation requested by {actor} via {via}: page the level after {waiting.describe()} now",
        {"via": via, "from": waiting.label, **waiting.to_json()},
    )
    # No lifecycle event: nothing the status page or subscribers show changes; the escalation reads the timeline.
    return Outcome("escalation_requested", via, requested, incident, None, (entry,), ())


def current_public_status(incident: Incident) -> str:
    """The status a public update keeps when its writer names none: the last public update's, or the page's first
    (investigating) before there is one."""
    return incident.public_updates[-1].status if incident.public_updates else PUBLIC_STATUSES[0]


_SEVERITY = re.compile(r"^sev([1-5])$", re.IGNORECASE)


def normalize_severity(value: str) -> str:
    match = _SEVERITY.match(value.strip())
    if not match:
        raise IncidentError(f"severity must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return f"SEV{match.group(1)}"


def sort_newest_first(incidents: Sequence[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda incident: incident.opened_at, reverse=True)
