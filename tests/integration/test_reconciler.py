"""The reconciler against the real store (in-process local AWS, the deployed table), with recorded runs.

GIVEN incidents written straight to the store (no lifecycle events: nothing starts by itself) and a recording
stand-in for the escalation machine's runs
WHEN the reconciler sweeps
THEN it starts what an unacknowledged incident lacks, ends what an acknowledged or resolved one still runs, says
so on the timeline, repairs each thing once, and reads only unresolved incidents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.ingest import RequestCounter
from siren.adapters.dynamodb import DynamoIncidents, DynamoStore, dynamo_store
from siren.app.reconcile import Reconciler
from siren.domain.escalation import Run, RunStatus, execution_name
from siren.domain.incidents import Incident, IncidentStatus, TimelineKind

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@dataclass
class RecordedRuns:
    """The machine's runs as a dict (name -> status); records what the reconciler asks for."""

    runs: dict[str, RunStatus] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    waits_ended: list[str] = field(default_factory=list)

    def running(self) -> list[str]:
        return [name for name, status in self.runs.items() if status is RunStatus.RUNNING]

    def latest(self, incident_id: str, attempt: int) -> Run | None:
        latest = None
        repair = 0
        while (name := execution_name(incident_id, attempt, repair)) in self.runs:
            latest, repair = Run(name, self.runs[name]), repair + 1
        return latest

    def start(self, incident_id: str, attempt: int, name: str) -> bool:
        if name in self.runs:
            return False
        self.runs[name] = RunStatus.RUNNING
        self.started.append(name)
        return True

    def stop(self, name: str, cause: str) -> bool:
        if self.runs.get(name) is not RunStatus.RUNNING:
            return False
        self.runs[name] = RunStatus.ABORTED
        self.stopped.append(name)
        return True

    def end_wait(self, token: str, why: str) -> bool:
        self.waits_ended.append(token)
        name = token.removeprefix("token-")
        self.runs[name] = RunStatus.SUCCEEDED
        return True


def incident(number: int, status: IncidentStatus, opened_minutes_ago: float) -> Incident:
    opened = NOW - timedelta(minutes=opened_minutes_ago)
    return Incident(
        id=f"INC-20261129-1200-{number:06x}",
        status=status,
        severity="SEV2",
        title=f"alarm {number}",
        service="search",
        dedup_key=f"test:{number}",
        source="test",
        opened_at=opened,
        last_seen_at=opened,
        acknowledged_at=opened + timedelta(minutes=1) if status is not IncidentStatus.OPEN else None,
        resolved_at=opened + timedelta(minutes=2) if status is IncidentStatus.RESOLVED else None,
    )


def repairs_on_timeline(incidents: DynamoIncidents, incident_id: str) -> list[str]:
    view = incidents.view(incident_id)
    assert view is not None
    return [entry.detail for entry in view.timeline if entry.kind is TimelineKind.ESCALATION_REPAIRED]


def put(stores: DynamoStore, *incidents: Incident) -> None:
    """Written as they are, with no lifecycle event: nothing in the runtime starts an escalation for them."""
    stores.incidents.bulk_put(incidents)


@pytest.fixture
def quiet_runtime(local_inprocess: Any) -> Any:
    # Every schedule: the deployed reconciler would repair these incidents itself, and the others' DynamoDB requests
    # (heartbeat checks, status publishes) would be counted with the sweep's.
    local_inprocess.pause_schedules("Siren-")
    assert local_inprocess.drain(30)  # a sweep it had already queued runs now, before the test's incidents exist
    return local_inprocess


def test_a_sweep_reads_only_unresolved_incidents(quiet_runtime):
    local_inprocess = quiet_runtime
    stores = dynamo_store(local_inprocess.stacks["Siren"].outputs["IncidentsTableName"])
    put(stores, *(incident(n, IncidentStatus.RESOLVED, opened_minutes_ago=100 + n) for n in range(300)))
    open_ones = [incident(1000 + n, IncidentStatus.OPEN, opened_minutes_ago=10) for n in range(10)]
    put(stores, *open_ones)
    runs = RecordedRuns(runs={execution_name(each.id, 1): RunStatus.RUNNING for each in open_ones})
    counter = RequestCounter()

    with counter.installed():
        report = Reconciler(stores.incidents, stores.escalations, runs, clock=lambda: NOW).sweep()

    requests: dict[str, Any] = dict(counter.take())
    assert report.unacknowledged == 10 and report.repairs == []
    # One query per unacknowledged status (open, recovered) and one read of each open incident's attempt.
    assert requests == {"Query": 2, "GetItem": 10}
