"""What people do to incidents: declare, resolve, acknowledge, change severity, escalate now; and read them."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from siren.app.clock import utc_now
from siren.app.ingest import Ingestor, IngestResult
from siren.domain.incidents import (
    Incident,
    IncidentError,
    IncidentStatus,
    Outcome,
    SeverityDecision,
    TimelineEntry,
    TimelineKind,
    acknowledge,
    assign_role,
    change_severity,
    current_public_status,
    normalize_severity,
    post_public_update,
    request_escalation,
    requested_escalation,
    resolve,
)
from siren.domain.policy import SirenConfig
from siren.domain.records import IncidentView
from siren.domain.signals import SeverityHints, Signal, SignalStatus, Source
from siren.ports import AfterCommit, ConcurrentChange, EscalateNow, IncidentRepository

# Racing deliveries of one key retry with jittered, capped backoff; past this the caller's retry takes over.
MAX_ATTEMPTS = 20
NOTE_MAX = 2000


@dataclass(frozen=True, slots=True)
class EscalationRequest:
    """What an escalate-now request did. ``requested``: this request was recorded (False: an earlier one for the
    same level stands, ``reason`` says whose); ``wait_ended``: the held wait ended at once (False: the escalation
    honours the recorded request at its next step or wait)."""

    incident: Incident
    requested: bool
    from_level: str  # e.g. "level 1"
    reason: str
    wait_ended: bool


@dataclass(frozen=True, slots=True, eq=False)
class Incidents:
    incidents: IncidentRepository
    config: SirenConfig
    clock: Callable[[], datetime] = utc_now
    # Ends the escalation's wait at once when a person acknowledges or resolves (and starts a declared incident's
    # escalation), ahead of the relayed event; None where the machine is out of reach (tests, a CLI without it).
    after_commit: AfterCommit | None = None
    # Escalate now: the held wait's level, and ending that wait early; None: escalate now is refused (no machine).
    escalation: EscalateNow | None = None

    def declare(self, title: str, severity: str, service: str, summary: str, actor: str) -> IngestResult:
        """A person declares an incident: it opens (and escalates) like any other, with the given severity."""
        if not title.strip():
            raise IncidentError("a declared incident needs a title")
        if not service.strip():
            raise IncidentError("a declared incident needs a service")
        severity = normalize_severity(severity)
        now = self.clock()
        declaration = str(uuid.uuid4())
        signal = Signal(
            source=Source.MANUAL,
            delivery_id=declaration,
            dedup_key=f"manual:{declaration}",
            status=SignalStatus.FIRING,
            title=title.strip()[:255],
            occurred_at=now,
            service=service.strip().lower(),
            summary=summary,
            hints=SeverityHints(explicit=severity),
            details={"declared_by": actor},
        )
        choice = SeverityDecision(severity, "declared", f"declared {severity} by {actor}")
        payload = {"title": title, "severity": severity, "service": service, "summary": summary, "actor": actor}
        ingestor = Ingestor(self.incidents, self.config, self.clock, self.after_commit)
        return ingestor.ingest(signal, payload, severity_override=choice)

    def get(self, incident_id: str) -> IncidentView:
        view = self.incidents.view(incident_id)
        if view is None:
            raise IncidentError(f"no incident {incident_id}")
        return view

    def list(self, status: IncidentStatus | None = None, limit: int = 100, canaries: bool = False) -> list[Incident]:
        """Newest first. Siren's own canary incidents (open for a few seconds each) only with ``canaries``; resolved
        ones are never listed (the by-time index keeps them apart)."""
        if status is not None:
            found = self.incidents.list_by_status(status, limit)
        else:
            found = [
                i
                for s in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RECOVERED)
                for i in self.incidents.list_by_status(s, limit)
            ]
        chosen = [incident for incident in found if canaries or not incident.canary]
        return sorted(chosen, key=lambda incident: incident.opened_at, reverse=True)[:limit]

    def resolve(self, incident_id: str, actor: str, note: str | None = None) -> Incident:
        return self._change(incident_id, lambda incident, now: resolve(incident, actor, note, now))

    def acknowledge(self, incident_id: str, actor: str, via: str) -> Incident:
        return self._change(incident_id, lambda incident, now: acknowledge(incident, actor, via, now))

    def assign(self, incident_id: str, role: str, user: str, actor: str) -> Incident:
        if user not in self.config.users:
            raise IncidentError(f"unknown user {user!r}: users are defined in siren.yaml")
        return self._change(incident_id, lambda incident, now: assign_role(incident, role, user, actor, now))

    def add_note(self, incident_id: str, text: str, actor: str) -> TimelineEntry:
        """An internal note on the timeline (what was tried, what was rolled back). Never public."""
        note = " ".join(text.split())
        if not note:
            raise IncidentError("a note needs some text")
        if len(note) > NOTE_MAX:
            raise IncidentError(f"a note is at most {NOTE_MAX} characters, got {len(note)}")
        if self.incidents.get(incident_id) is None:
            raise IncidentError(f"no incident {incident_id}")
        entry = TimelineEntry(self.clock(), TimelineKind.NOTE, actor, note)
        self.incidents.add_timeline(incident_id, [entry])
        return entry

    def post_update(
        self, incident_id: str, body: str, status: str | None, actor: str, title: str | None = None
    ) -> Incident:
        """A public update for the status page, written by a person. ``status`` None keeps the incident's public
        status (read in the same change, so a status set meanwhile is kept, not overwritten)."""

        def update(incident: Incident, now: datetime) -> Outcome:
            kept = status if status is not None else current_public_status(incident)
            return post_public_update(incident, body, kept, actor, now, title=title)

        return self._change(incident_id, update)

    def change_severity(self, incident_id: str, severity: str, actor: str) -> Incident:
        return self._change(incident_id, lambda incident, now: change_severity(incident, severity, actor, now))

    def escalate_now(self, incident_id: str, actor: str, via: str) -> EscalationRequest:
        """Page the next level now instead of waiting out the current level's delay.

        The store is the truth: the request goes on the timeline (naming the level it leaves, read from the held
        wait's record) in the incident's transaction, so it loses to an acknowledgement that commits first, and two
        racing requests record one. Then the held wait is ended early and the machine's next step pages the next
        level; where no wait is held at that level just then, the escalation reads the request itself (see
        siren.app.escalation). A second request for the same level is told who asked, and ends the wait if it is
        still held (a retry after a failed ending works)."""
        escalation = self.escalation
        if escalation is None:
            raise IncidentError("escalating now needs the escalation state machine, which is out of reach here")
        for attempt in range(MAX_ATTEMPTS):
            view = self.incidents.view(incident_id)
            if view is None:
                raise IncidentError(f"no incident {incident_id}")
            held = escalation.held_wait(incident_id)
            waiting = held.waiting if held is not None else None
            now = self.clock()
            outcome = request_escalation(view.incident, view.timeline, waiting, actor=actor, via=via, now=now)
            if waiting is None:  # request_escalation refuses that; this tells the type checker
                raise IncidentError(f"{incident_id}'s escalation is not waiting on anyone right now")
            if outcome.incident is not None:
                try:
                    self.incidents.apply(outcome, None, now)
                except ConcurrentChange:
                    time.sleep(random.uniform(0, min(0.005 * (2**attempt), 0.25)))  # noqa: S311 - jitter
                    continue
            ended = False
            if outcome.incident is not None or requested_escalation(view.timeline, waiting) is not None:
                # Recorded now, or asked for this same level before: the wait, if still held there, ends now.
                ended = escalation.escalate_now(incident_id, waiting, actor)
            return EscalationRequest(
                outcome.incident or view.incident,
                requested=outcome.incident is not None,
                from_level=waiting.describe(),
                reason=outcome.reason,
                wait_ended=ended,
            )
        raise ConcurrentChange(f"gave up escalating {incident_id} after {MAX_ATTEMPTS} concurrent changes")

    def _change(self, incident_id: str, decide: Callable[[Incident, datetime], Outcome]) -> Incident:
        for attempt in range(MAX_ATTEMPTS):
            incident = self.incidents.get(incident_id)
            if incident is None:
                raise IncidentError(f"no incident {incident_id}")
            now = self.clock()
            outcome = decide(incident, now)
            if outcome.incident is None:
                return incident  # nothing to change (e.g. already acknowledged)
            changed = outcome.incident
            if outcome.incident.status is IncidentStatus.RESOLVED:
                # The key is free again: its next trigger opens a new incident.
                key = self.incidents.key_state(incident.dedup_key)
                if key.open_incident_id == incident.id:
                    outcome = replace(outcome, key_state=replace(key, open_incident_id=None, version=key.version + 1))
            try:
                self.incidents.apply(outcome, None, now)
            except ConcurrentChange:
                time.sleep(random.uniform(0, min(0.005 * (2**attempt), 0.25)))  # noqa: S311 - jitter, not security
                continue
            if self.after_commit is not None:
                self.after_commit.after_commit(outcome.events)
            return changed
        raise ConcurrentChange(f"gave up changing {incident_id} after {MAX_ATTEMPTS} concurrent changes")
