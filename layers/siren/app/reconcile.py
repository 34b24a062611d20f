"""The reconciler: every minute, each incident's escalation is made to match the store.

Trust the store, not the message. An escalation starts on an ``Incident Opened`` event and ends on an
``Incident Acknowledged`` / ``Resolved`` one; an event lost on the way (a relay outage past its retries, a
dead-lettered delivery, a run stopped by hand or failed for good) would leave an open incident that pages nobody,
or an acknowledged one that keeps paging. The sweep reads the unresolved incidents (the by-status index holds only
those: resolved history is never read) and the machine's running runs, and repairs each difference:

- an unacknowledged incident (open or recovered) whose current attempt has no run: started under the attempt's own
  name (so a start still on its way and this one are the same run), once the incident is older than a grace;
- one whose run failed, timed out or was aborted: a repair run ``<incident>-a<attempt>-r<n>`` (it pages from the
  first level again: the lost run's position is not kept);
- an acknowledged or resolved incident with a running run: its wait is ended (or the run stopped), once the
  change is older than the grace (the event that ends it may be on its way).

Each repair is a timeline entry (``escalation_repaired``) and an ``EscalationsRepaired`` metric, which the
``<stack>-EscalationRepairs`` alarm turns into an operations notification: a repair means something upstream lost
an event, and that must be looked at even though the incident was saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from siren.domain.escalation import parse_execution_name, repair_for_unacknowledged
from siren.domain.incidents import Incident, IncidentStatus, TimelineEntry, TimelineKind
from siren.observability import logger, metrics
from siren.ports import EscalationRuns, EscalationState, IncidentRepository

ACTOR = "siren-reconciler"
REPAIRED_METRIC = "EscalationsRepaired"
# Longer than an event normally takes from the store to the lifecycle function (about a second), shorter than
# PagerDuty's five minutes of lateness that count as downtime.
DEFAULT_GRACE = timedelta(minutes=2)
UNACKNOWLEDGED = (IncidentStatus.OPEN, IncidentStatus.RECOVERED)
MAX_UNRESOLVED_READ = 1000


@dataclass
class SweepReport:
    unacknowledged: int = 0
    running: int = 0
    repairs: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"unacknowledged": self.unacknowledged, "running": self.running, "repairs": self.repairs}


@dataclass(frozen=True, slots=True, eq=False)
class Reconciler:
    incidents: IncidentRepository
    escalations: EscalationState
    runs: EscalationRuns
    clock: Callable[[], datetime]
    grace: timedelta = DEFAULT_GRACE

    def sweep(self) -> SweepReport:
        now = self.clock()
        report = SweepReport()
        running_names = self.runs.running()
        report.running = len(running_names)
        running_by_incident: dict[str, list[str]] = {}
        for name in running_names:
            parsed = parse_execution_name(name)
            if parsed is not None:
                running_by_incident.setdefault(parsed.incident_id, []).append(name)
        unacknowledged = [
            incident
            for status in UNACKNOWLEDGED
            for incident in self.incidents.list_by_status(status, limit=MAX_UNRESOLVED_READ)
        ]
        report.unacknowledged = len(unacknowledged)
        for incident in unacknowledged:
            self._keep_escalating(incident, running_by_incident.get(incident.id, []), now, report)
        waiting_on = {incident.id for incident in unacknowledged}
        for incident_id, names in running_by_incident.items():
            if incident_id not in waiting_on:
                self._end_escalation(incident_id, names, now, report)
        if report.repairs:
            metrics.add_metric(name=REPAIRED_METRIC, unit=MetricUnit.Count, value=len(report.repairs))
        return report

    def _keep_escalating(self, incident: Incident, running: list[str], now: datetime, report: SweepReport) -> None:
        attempt = self.escalations.current_attempt(incident.id)
        if any((parsed := parse_execution_name(name)) and parsed.attempt == attempt for name in running):
            return
        latest = self.runs.latest(incident.id, attempt)
        repair = repair_for_unacknowledged(
            incident.id, attempt, latest, opened_at=incident.opened_at, now=now, grace=self.grace
        )
        if repair is None or not self.runs.start(incident.id, attempt, repair.name):
            return  # nothing to do, or another sweep (or the late event) started it first
        self._record(incident.id, now, f"escalation started again as {repair.name}: {repair.why}", report)

    def _end_escalation(self, incident_id: str, names: list[str], now: datetime, report: SweepReport) -> None:
        incident = self.incidents.get(incident_id)
        if incident is not None and incident.status in UNACKNOWLEDGED:
            return  # changed since the list was read: the next sweep looks again
        since = (incident.resolved_at or incident.acknowledged_at) if incident is not None else None
        if since is not None and now - since < self.grace:
            return  # the Acknowledged / Resolved event that ends it may be on its way
        why = f"incident is {incident.status}" if incident is not None else "no such incident"
        held = self.escalations.held_token(incident_id)
        ended = self.runs.end_wait(held[0], why) if held is not None else False
        if not ended:
            ended = any([self.runs.stop(name, why) for name in names])
        if ended and incident is not None:
            self._record(incident_id, now, f"escalation ended ({why}): its end was missed", report)

    def _record(self, incident_id: str, now: datetime, detail: str, report: SweepReport) -> None:
        logger.warning("escalation repaired", extra={"incident_id": incident_id, "repair": detail})
        self.incidents.add_timeline(incident_id, [TimelineEntry(now, TimelineKind.ESCALATION_REPAIRED, ACTOR, detail)])
        report.repairs.append({"incident_id": incident_id, "repair": detail})
