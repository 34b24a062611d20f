"""Escalation reacting to lifecycle events: start on "Incident Opened", restart when "Severity Changed" raises
the severity, stop on "Incident Acknowledged" / "Incident Resolved"; a resolve also frees the incident's
acknowledgement code.

An event is a hint, never the truth: anyone allowed to put events on the bus could forge one, and a genuine one
may arrive late or twice. Each is checked against the incident in the store before anything starts or stops; an
event the store does not confirm changes nothing and is logged as ignored."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siren.app.clock import utc_now
from siren.domain.escalation import execution_name
from siren.domain.incidents import Incident, IncidentStatus, LifecycleEventType, TimelineKind
from siren.domain.signals import SEVERITIES
from siren.observability import logger
from siren.ports import AckCodes, EscalationRuns, EscalationState, IncidentRepository

ENDED = (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED)
UNACKNOWLEDGED = (IncidentStatus.OPEN, IncidentStatus.RECOVERED)


@dataclass(kw_only=True, frozen=True, slots=True, eq=False)
class EscalationEvents:
    """The lifecycle function's use case: reads the incident and the escalation's state, starts runs and ends
    waits through the machine, and gives a resolved incident's code back."""

    incidents: IncidentRepository
    escalations: EscalationState
    codes: AckCodes
    runs: EscalationRuns
    clock: Callable[[], datetime] = utc_now

    def on_lifecycle_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock()
        detail_type = event.get("detail-type")
        detail = event.get("detail") or {}
        incident_id = str(detail["incident_id"])
        if detail_type == LifecycleEventType.OPENED:
            incident = self.incidents.get(incident_id)
            if incident is None or incident.status not in UNACKNOWLEDGED:
                return _ignored(incident_id, detail_type, incident, "the incident is not open and unacknowledged")
            started = self._start(incident_id, attempt=1)
            return {"incident_id": incident_id, "started": started}
        if detail_type == LifecycleEventType.SEVERITY_CHANGED and detail.get("raised"):
            attempt, refusal = _confirmed_raise(self.incidents, incident_id, detail)
            if attempt is None:
                return _ignored(incident_id, detail_type, self.incidents.get(incident_id), refusal)
            # Each raise is its own attempt: the version of the incident makes the execution name unique. The new
            # attempt becomes current first, so the one it replaces can no longer hold a wait or page again.
            previous_wait = self.escalations.supersede_escalation(incident_id, attempt)
            stopped = self.runs.end_wait(previous_wait, "severity raised") if previous_wait else False
            started = self._start(incident_id, attempt=attempt)
            return {"incident_id": incident_id, "restarted": started, "stopped_previous": stopped}
        if detail_type in (LifecycleEventType.ACKNOWLEDGED, LifecycleEventType.RESOLVED):
            incident = self.incidents.get(incident_id)
            if incident is None or incident.status not in ENDED:
                return _ignored(incident_id, detail_type, incident, "the store says the incident is not acknowledged")
            stopped = self._end_wait(incident_id, str(detail_type))
            if incident.status is IncidentStatus.RESOLVED:
                # The code goes back to the pool (after a grace for late replies): codes never run out.
                freed = self.codes.free_ack_code(incident_id, now)
                return {"incident_id": incident_id, "stopped": stopped, "freed_code": freed}
            return {"incident_id": incident_id, "stopped": stopped}
        return {"incident_id": incident_id, "ignored": detail_type}

    def _start(self, incident_id: str, attempt: int) -> bool:
        """Start the attempt's run under its own name: False when it already started (a redelivered event)."""
        return self.runs.start(incident_id, attempt, execution_name(incident_id, attempt))

    def _end_wait(self, incident_id: str, why: str) -> bool:
        held = self.escalations.held_token(incident_id)
        if held is None:
            return False
        token, _execution = held
        return self.runs.end_wait(token, why)


def _confirmed_raise(
    incidents: IncidentRepository, incident_id: str, detail: Mapping[str, Any]
) -> tuple[int | None, str]:
    """The attempt a "Severity Changed" event may start, or None and why not.

    The attempt is the incident version the raise wrote, so a redelivered event starts nothing twice. The event
    only names that version: it is taken when the store has reached it (a forged huge version would make every
    later genuine raise look stale) and the incident's timeline holds a raise to the event's severity."""
    try:
        attempt = int(detail.get("version"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, "the event names no incident version"
    view = incidents.view(incident_id)
    if view is None:
        return None, "no such incident"
    incident = view.incident
    if incident.status is IncidentStatus.RESOLVED:
        return None, "the incident is resolved"
    if not 1 < attempt <= incident.version:
        return None, f"version {attempt} is not one the store's incident (version {incident.version}) has had"
    severity = str(detail.get("severity", ""))
    raised = any(
        entry.kind is TimelineKind.SEVERITY_CHANGED
        and entry.data.get("severity") == severity
        and _rank(severity) < _rank(str(entry.data.get("previous", "")))
        for entry in view.timeline
    )
    if not raised:
        return None, f"the incident's timeline has no raise to {severity or 'that severity'}"
    return attempt, ""


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _ignored(incident_id: str, detail_type: Any, incident: Incident | None, why: str) -> dict[str, Any]:
    logger.warning(
        "lifecycle event ignored: the store does not confirm it",
        extra={
            "incident_id": incident_id,
            "detail_type": str(detail_type),
            "reason": why,
            "store_status": str(incident.status) if incident else None,
            "store_version": incident.version if incident else None,
        },
    )
    return {"incident_id": incident_id, "ignored": str(detail_type), "reason": why}
