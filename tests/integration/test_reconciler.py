"""The reconciler against the real store (in-process local AWS, the deployed table), with recorded runs.

GIVEN 300 resolved and 10 open incidents written straight to the store (no lifecycle events: nothing starts by
itself) and the recording fake of the escalation machine's runs
WHEN the reconciler sweeps
THEN it reads only the unresolved incidents: what a sweep costs, which only the real store can show. What it repairs
is tested on the fakes (tests/unit/test_reconciler_on_fakes.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.ingest import RequestCounter
from siren.adapters.dynamodb import DynamoStore, dynamo_store
from siren.app.reconcile import Reconciler
from siren.domain.escalation import RunStatus, execution_name
from siren.domain.incidents import Incident, IncidentStatus
from tests.fakes import FakeEscalationRuns
from tests.unit.test_reconciler_on_fakes import NOW, incident


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
    runs = FakeEscalationRuns(runs={execution_name(each.id, 1): RunStatus.RUNNING for each in open_ones})
    counter = RequestCounter()

    with counter.installed():
        report = Reconciler(stores.incidents, stores.escalations, runs, clock=lambda: NOW).sweep()

    requests: dict[str, Any] = dict(counter.take())
    assert report.unacknowledged == 10 and report.repairs == []
    # One query per unacknowledged status (open, recovered) and one read of each open incident's attempt.
    assert requests == {"Query": 2, "GetItem": 10}
