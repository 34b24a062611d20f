"""Escalation reacting to lifecycle events: start on "Incident Opened", restart when "Severity Changed" raises
the severity, stop on "Incident Acknowledged" / "Incident Resolved"; a resolve also frees the incident's
acknowledgement code.

An event is a hint, never the truth: anyone allowed to put events on the bus could forge one, and a genuine one
may arrive late or twice. Each is checked against the incident in the store before anything starts or stops; an
event the store does not confirm changes nothing and is logged as ignored."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siren.app.clock import utc_now
from siren.domain.escalation import HeldWait, WaitingAt, execution_name
from siren.domain.incidents import Incident, IncidentStatus, LifecycleEvent, LifecycleEventType, TimelineKind
from siren.domain.signals import SEVERITIES
from siren.observability import logger
from siren.ports import AckCodes, EscalationRuns, EscalationState, EscalationWaits, IncidentRepository

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
        return start_attempt(self.runs, incident_id, attempt)

    def _end_wait(self, incident_id: str, why: str) -> bool:
        return end_held_wait(self.escalations, self.runs, incident_id, why)


def start_attempt(runs: EscalationRuns, incident_id: str, attempt: int) -> bool:
    """Start the attempt's run under its own name: False when it already started (a redelivered event, or the
    shortcut started it first)."""
    return runs.start(incident_id, attempt, execution_name(incident_id, attempt))


def end_held_wait(escalations: EscalationState, waits: EscalationWaits, incident_id: str, why: str) -> bool:
    """End the wait the incident's current run holds, if any: False when none is held or it already ended."""
    held = escalations.held_token(incident_id)
    if held is None:
        return False
    token, _execution = held
    return waits.end_wait(token, why)


@dataclass(frozen=True, slots=True, eq=False)
class EscalationShortcut:
    """The paging path's first hop, taken at once by the function that committed the change.

    The outbox relay (DynamoDB stream -> relay -> bus -> lifecycle function) makes a lost start impossible, but
    it is four hops and their cold starts. So the function whose transaction opened an incident starts its
    escalation itself, and the one that acknowledged or resolved it ends the wait, straight after the commit (the
    commit is the store's answer: nothing to re-read). The relayed event comes second and changes nothing: the
    run's name is the incident and attempt, and an ended wait stays ended. A failure here is logged and left to
    the relay, never raised: the change is committed, and its caller must not retry it for a shortcut's sake.
    A raised severity is left to the relay (its attempt supersedes the previous one, see EscalationEvents)."""

    escalations: EscalationState
    runs: EscalationRuns

    def after_commit(self, events: Sequence[LifecycleEvent]) -> list[str]:
        """Act on the committed change's lifecycle events; returns what was done (e.g. ``started INC-1``)."""
        done: list[str] = []
        for event in events:
            incident_id = str(event.detail.get("incident_id", ""))
            kind = event.detail_type
            try:
                if kind is LifecycleEventType.OPENED and start_attempt(self.runs, incident_id, attempt=1):
                    done.append(f"started {incident_id}")
                ending = kind in (LifecycleEventType.ACKNOWLEDGED, LifecycleEventType.RESOLVED)
                if ending and end_held_wait(self.escalations, self.runs, incident_id, str(kind)):
                    done.append(f"ended the wait of {incident_id}")
            except Exception:  # the relayed event is the guarantee; this was only the fast path
                logger.warning(
                    "escalation shortcut failed; the relayed lifecycle event will do it",
                    extra={"incident_id": incident_id, "detail_type": str(event.detail_type)},
                    exc_info=True,
                )
        return done

    # -- escalate now (siren.ports.EscalateNow) ------------------------------------------------------------
    def held_wait(self, incident_id: str) -> HeldWait | None:
        return self.escalations.held_wait(incident_id)

    def escalate_now(self, incident_id: str, waiting: WaitingAt, requested_by: str) -> bool:
        """End the held wait early towards the next level, if it is still the wait at ``waiting``'s level (the
        request was committed for that level; a run that has moved on since must not be pushed on again).

        False when it is not (the run is between its wait and its next step, or paging): the request stays on the
        timeline, and the escalation honours it there (its next step skips the rest of the level; a wait held at
        that level ends itself at once). A failure is logged, not raised: the request is committed, and asking
        again ends the wait if it is still held; at worst the level's own timeout escalates."""
        try:
            held = self.escalations.held_wait(incident_id)
            if held is None or held.waiting is None or held.waiting.label != waiting.label:
                return False
            return self.runs.escalate_wait(held.token, requested_by)
        except Exception:
            logger.warning(
                "escalate now: ending the wait failed; the level's timeout escalates",
                extra={"incident_id": incident_id, "level": waiting.label},
                exc_info=True,
            )
            return False


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
