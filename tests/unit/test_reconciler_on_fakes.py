"""The reconciler on fakes: each difference between the store and the machine's runs is repaired once.

GIVEN incidents written straight to the fake store (no lifecycle events: nothing starts by itself) and the fake
machine's runs (tests/fakes.py)
WHEN the reconciler sweeps
THEN it starts what an unacknowledged incident lacks, ends what an acknowledged or resolved one still runs, says
so on the timeline, and repairs each thing once.

Moved from tests/integration/test_reconciler.py (same assertions); what a sweep reads of DynamoDB (requests
counted) stays tested there against the real store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siren.app.reconcile import Reconciler
from siren.domain.escalation import RunStatus, execution_name
from siren.domain.incidents import Incident, IncidentStatus, TimelineKind
from tests.fakes import FakeEscalationRuns, FakeStore

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


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


def repairs_on_timeline(store: FakeStore, incident_id: str) -> list[str]:
    view = store.incidents.view(incident_id)
    assert view is not None
    return [entry.detail for entry in view.timeline if entry.kind is TimelineKind.ESCALATION_REPAIRED]


def put(store: FakeStore, *incidents: Incident) -> None:
    for each in incidents:
        store.incidents.put(each)


def test_each_difference_is_repaired_once_and_said_on_the_timeline():
    store = FakeStore()
    lost_start = incident(1, IncidentStatus.OPEN, opened_minutes_ago=10)
    just_opened = incident(2, IncidentStatus.OPEN, opened_minutes_ago=0.5)
    stopped_by_hand = incident(3, IncidentStatus.OPEN, opened_minutes_ago=10)
    exhausted = incident(4, IncidentStatus.OPEN, opened_minutes_ago=60)
    acknowledged = incident(5, IncidentStatus.ACKNOWLEDGED, opened_minutes_ago=10)
    resolved = incident(6, IncidentStatus.RESOLVED, opened_minutes_ago=10)
    healthy = incident(7, IncidentStatus.OPEN, opened_minutes_ago=10)
    put(store, lost_start, just_opened, stopped_by_hand, exhausted, acknowledged, resolved, healthy)
    held = f"token-{execution_name(acknowledged.id, 1)}"
    runs = FakeEscalationRuns(
        runs={
            execution_name(stopped_by_hand.id, 1): RunStatus.ABORTED,
            execution_name(exhausted.id, 1): RunStatus.SUCCEEDED,
            execution_name(acknowledged.id, 1): RunStatus.RUNNING,
            execution_name(resolved.id, 1): RunStatus.RUNNING,
            execution_name(healthy.id, 1): RunStatus.RUNNING,
        },
        held={held: execution_name(acknowledged.id, 1)},
    )
    store.escalations.hold_token(acknowledged.id, held, "arn", attempt=1)
    reconciler = Reconciler(store.incidents, store.escalations, runs, clock=lambda: NOW)

    report = reconciler.sweep()

    assert sorted(runs.started) == sorted([execution_name(lost_start.id, 1), execution_name(stopped_by_hand.id, 1, 1)])
    assert runs.waits_ended == [f"token-{execution_name(acknowledged.id, 1)}"]
    assert runs.stopped == [execution_name(resolved.id, 1)]
    assert len(report.repairs) == 4
    assert "event lost" in repairs_on_timeline(store, lost_start.id)[0]
    assert "ended aborted" in repairs_on_timeline(store, stopped_by_hand.id)[0]
    assert "acknowledged" in repairs_on_timeline(store, acknowledged.id)[0]
    for untouched in (just_opened, exhausted, healthy):
        assert repairs_on_timeline(store, untouched.id) == []

    # A second sweep finds nothing left to repair.
    assert reconciler.sweep().repairs == []
    # The repaired run is stopped again: the next repair run follows it.
    runs.runs[execution_name(stopped_by_hand.id, 1, 1)] = RunStatus.FAILED
    reconciler.sweep()
    assert runs.started[-1] == execution_name(stopped_by_hand.id, 1, 2)


def test_a_sweep_counts_only_unresolved_incidents_and_reads_none_of_them_again():
    store = FakeStore()
    put(store, *(incident(n, IncidentStatus.RESOLVED, opened_minutes_ago=100 + n) for n in range(300)))
    open_ones = [incident(1000 + n, IncidentStatus.OPEN, opened_minutes_ago=10) for n in range(10)]
    put(store, *open_ones)
    runs = FakeEscalationRuns(runs={execution_name(each.id, 1): RunStatus.RUNNING for each in open_ones})

    report = Reconciler(store.incidents, store.escalations, runs, clock=lambda: NOW).sweep()

    assert report.unacknowledged == 10 and report.repairs == []
    assert store.incidents.reads == 0  # running as they should: no incident is read one by one
