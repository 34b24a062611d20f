"""The fault matrix, Siren's own pipeline: a function that fails, EventBridge refusing events for a quarter of an
hour, a forged severity change on the bus. The escalation goes on, and the timeline says what happened.

GIVEN Siren deployed on one embedded local AWS for the module (time scale 600), the shipped siren.yaml team.
(The forged "Incident Acknowledged" of the matrix is tests/e2e/test_forged_lifecycle_events.py: not repeated here.)
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.e2e.test_forged_lifecycle_events import held_wait
from tests.e2e.test_ingest_paths import post
from tests.faults.support import (
    CONFIG,
    end_escalation,
    execution_history,
    incident_titled,
    level_one,
    on_call,
    open_incident,
    phone,
    sent,
    table,
    timeline,
)
from tests.support import wait_for

pytestmark = pytest.mark.e2e
EUM = "end-user-messaging"


def runs_of(runtime: Any, incident_id: str) -> dict[str, str]:
    sfn = runtime.client("stepfunctions")
    machine = runtime.stacks["Siren"].outputs["EscalationStateMachineArn"]
    return {
        e["name"]: e["status"]
        for e in sfn.list_executions(stateMachineArn=machine)["executions"]
        if e["name"].startswith(incident_id)
    }


def test_the_page_function_failing_three_times_is_on_the_timeline_and_the_escalation_goes_on(runtime):
    # GIVEN the function that sends one person's pages failing on its next 3 invocations (a function error: its
    # task's tries in Step Functions are all spent)
    fault = runtime.add_fault("lambda:EscalationPage", times=3)
    primary, secondary = on_call(0, "SEV3")[0], on_call(1, "SEV3")[0]
    # WHEN an incident's level 1 pages the primary (SEV3: nobody else at level 1, no chat, no roles)
    alarm = "faults-page-function-fails"
    incident = open_incident(runtime, alarm)

    # THEN the escalation goes on: level 2 pages the secondary
    wait_for(lambda: sent(runtime, incident, phone(secondary), "sms", EUM))
    assert fault.hits == 3
    entries = timeline(runtime, incident["id"])
    # ...and the timeline says the primary's level-1 page may not have gone out, and why, before level 2 began
    first = level_one(entries)
    failed = [e for e in first if e.kind == "page_failed" and e.user == primary]
    assert len(failed) == 1 and "InjectedFault" in failed[0].detail, [e.detail for e in first]
    # ...and that nothing of that page went out, on the timeline or in the outbox (a later notification of the
    # level, a call due 2 minutes in, is a task of its own and goes through)
    lost = set(failed[0].data["methods"])
    assert lost and not any(e.kind == "paged" and e.user == primary and e.data.get("channel") in lost for e in first)
    addresses = {phone(primary), CONFIG.users[primary].email}
    assert not [m for m in sent(runtime, incident) if m["to"] in addresses and m["channel"] in lost]
    # the state machine's history has the three function errors
    errors = [
        e
        for e in execution_history(runtime, incident["id"])
        if "InjectedFault"
        in json.dumps(e.get("taskFailedEventDetails") or e.get("lambdaFunctionFailedEventDetails") or {})
    ]
    assert len(errors) == 3
    end_escalation(runtime, alarm, incident["id"])


def test_eventbridge_refusing_events_delays_no_page_and_its_late_events_start_nothing_twice(runtime):
    # GIVEN EventBridge PutEvents failing (500 InternalException) until the operators' fix (cleared below)
    fault = runtime.add_fault("events")
    primary = on_call(0, "SEV3")[0]
    # WHEN an alert arrives through the webhook meanwhile (the webhook puts no event: the outbox relay does)
    title = "faults-eventbridge-down"
    status, _ = post(runtime, "generic", {"dedup_key": title, "title": title, "severity": "SEV3"})
    assert status in (200, 202)
    incident = incident_titled(runtime, title)

    # THEN the primary is paged while EventBridge still refuses: the webhook started the escalation itself once
    # its transaction committed (issue 14); the relay, the guarantee, keeps trying meanwhile
    wait_for(lambda: sent(runtime, incident, phone(primary), "sms", EUM), timeout=90)
    wait_for(lambda: fault.hits >= 1, timeout=60)
    assert fault.active(time.monotonic())

    # ...and once EventBridge accepts again, the relayed "Incident Opened" starts nothing more: one run, one page
    def lifecycle_runs() -> int:
        return len([i for i in runtime.lambda_runtime.invocations if "EscalationLifecycle" in i.function_name])

    relayed_before = lifecycle_runs()
    assert runtime.faults.clear() == 1
    hits = fault.hits
    wait_for(lambda: lifecycle_runs() > relayed_before, timeout=90)  # the relayed event has come through
    assert runtime.drain(60)
    first = level_one(timeline(runtime, incident["id"]))
    assert len([e for e in first if e.is_page(primary, "sms", EUM)]) == 1
    assert len(sent(runtime, incident, phone(primary), "sms")) == 1
    runs = runs_of(runtime, incident["id"])
    assert list(runs) == [f"{incident['id']}-a1"], runs
    # ...started by the webhook, not repaired by the reconciler's sweep (which would have said so on the timeline)
    assert not [e for e in timeline(runtime, incident["id"]) if e.kind == "escalation_repaired"]
    assert fault.hits == hits  # nothing failed after the fix
    post(runtime, "generic", {"dedup_key": title, "status": "resolved"})
    wait_for(lambda: set(runs_of(runtime, incident["id"]).values()) <= {"SUCCEEDED"}, timeout=60)


def test_a_forged_severity_change_on_the_bus_is_ignored_and_a_real_raise_still_works(runtime, monkeypatch):
    # GIVEN a SEV3 whose level 1 waits for an acknowledgement
    alarm = "faults-forged-severity"
    incident = open_incident(runtime, alarm)
    incident_id = incident["id"]
    wait_for(lambda: held_wait(runtime, incident_id))
    before = timeline(runtime, incident_id)

    # WHEN someone puts a "Severity Changed" for it on the Siren bus: raised to SEV1, at a version far ahead
    forged = {"incident_id": incident_id, "severity": "SEV1", "previous": "SEV3", "raised": True, "version": 10**6}
    bus = runtime.stacks["Siren"].outputs["EventBusName"]
    entry = {"EventBusName": bus, "Source": "siren.incidents", "DetailType": "Severity Changed"}
    answer = runtime.client("events").put_events(Entries=[{**entry, "Detail": json.dumps(forged)}])
    assert answer["FailedEntryCount"] == 0
    assert runtime.drain(30)

    # THEN nothing changed: the one escalation runs on, at SEV3, nobody was mobilized, the timeline is as it was
    assert runs_of(runtime, incident_id) == {f"{incident_id}-a1": "RUNNING"}
    assert incident_titled(runtime, alarm)["severity"] == "SEV3"
    assert [e.kind for e in timeline(runtime, incident_id)][: len(before)] == [e.kind for e in before]
    assert not any("as incident" in e.detail for e in timeline(runtime, incident_id))

    # ...and a genuine raise afterwards still restarts the escalation (the forged version did not make it stale)
    from siren.adapters.dynamodb import DynamoIncidents
    from siren.app.incidents import Incidents

    monkeypatch.setenv("AWS_ENDPOINT_URL", runtime.endpoint_url)  # this process's SDK calls go to the runtime
    Incidents(DynamoIncidents(table(runtime)), CONFIG).change_severity(incident_id, "SEV1", "alice")
    wait_for(lambda: len(runs_of(runtime, incident_id)) == 2)
    wait_for(lambda: any("as incident commander" in e.detail for e in timeline(runtime, incident_id)))
    end_escalation(runtime, alarm, incident_id)
