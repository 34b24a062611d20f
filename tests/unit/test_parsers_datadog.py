"""Datadog webhooks: the default payload and Siren's payload (layers/siren/domain/parsers/datadog.py) into signals.

The samples (tests/events/datadog_webhook_*.json) are the Webhooks integration's payload templates
(https://docs.datadoghq.com/integrations/webhooks/) with their $VARIABLES filled in as Datadog fills them: strings,
dates in epoch milliseconds, titles like "[Triggered on {host:web-1}] name".
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.app.ingest import Ingestor
from siren.config import load_config
from siren.domain.incidents import IncidentStatus
from siren.domain.parsers import JUDGES_BY_SOURCE, parse_datadog
from siren.domain.parsers.datadog import read_title
from siren.domain.severity import resolve_service, resolve_severity
from siren.domain.signals import ParseError, SignalStatus, Source
from tests.fakes import FakeIncidentRepository

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
CONFIG = load_config(ROOT / "siren.yaml")
RECEIVED = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def one(body: Any) -> Any:
    (signal,) = parse_datadog(body, RECEIVED)
    return signal


def test_sirens_payload_reads_monitor_group_priority_tags_and_host():
    signal = one(sample("datadog_webhook_siren_triggered.json"))

    assert (signal.source, signal.status) == (Source.DATADOG, SignalStatus.FIRING)
    assert signal.dedup_key == "datadog:monitor:81234567|group:9bd4ac313a4d1e8fae2482df7b77628"
    assert signal.delivery_id == "datadog:7709842341230617090"
    assert signal.title == "Checkout latency high (host:web-1)"
    assert signal.service == "checkout"
    assert signal.occurred_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert signal.hints.explicit == "SEV2"
    labels = signal.hints.labels
    assert (labels["priority"], labels["team"], labels["host"], labels["transition"]) == (
        "P2",
        "payments",
        "web-1",
        "triggered",
    )
    assert signal.link == "https://app.datadoghq.com/event/event?id=7709842341230617090"
    # P2 is stated by the sender: the "stated" rule of the shipped siren.yaml decides.
    decision = resolve_severity(signal, resolve_service(signal, CONFIG), CONFIG)
    assert (decision.severity, decision.rule) == ("SEV2", "stated")


def test_the_recovery_of_the_same_monitor_and_group_has_the_same_key_and_resolves():
    triggered = one(sample("datadog_webhook_siren_triggered.json"))
    recovered = one(sample("datadog_webhook_siren_recovered.json"))

    assert recovered.status is SignalStatus.RESOLVED
    assert recovered.dedup_key == triggered.dedup_key
    assert recovered.delivery_id != triggered.delivery_id


def test_another_group_of_the_same_monitor_is_another_key():
    body = sample("datadog_webhook_siren_triggered.json")
    other = {**copy.deepcopy(body), "aggreg_key": "0aa1bb2cc3dd", "alert_scope": "host:web-2", "id": "771"}

    assert one(other).dedup_key != one(body).dedup_key


def test_the_default_payload_takes_transition_scope_and_name_from_the_title():
    signal = one(sample("datadog_webhook_default_triggered.json"))

    assert signal.status is SignalStatus.FIRING
    assert signal.dedup_key == "datadog:title:Disk almost full|group:host:web-1"
    assert signal.title == "Disk almost full (host:web-1)"
    assert signal.details["org"] == "Example Org" and signal.details["event_type"] == "query_alert_monitor"
    recovered = sample("datadog_webhook_default_triggered.json")
    recovered.update(title="[Recovered on {host:web-1}] Disk almost full", id="7709842341230619999")
    assert one(recovered).status is SignalStatus.RESOLVED and one(recovered).dedup_key == signal.dedup_key


@pytest.mark.parametrize(
    ("transition", "status"),
    [
        ("Triggered", SignalStatus.FIRING),
        ("Re-Triggered", SignalStatus.FIRING),
        ("Renotify", SignalStatus.FIRING),
        ("Warn", SignalStatus.FIRING),
        ("Re-Warn", SignalStatus.FIRING),
        ("Recovered", SignalStatus.RESOLVED),
        ("No Data", SignalStatus.INSUFFICIENT_DATA),
        ("Re-No Data", SignalStatus.INSUFFICIENT_DATA),
    ],
)
def test_every_documented_transition_has_a_status(transition: str, status: SignalStatus):
    body = {**sample("datadog_webhook_siren_triggered.json"), "alert_transition": transition}

    assert one(body).status is status


def test_titles_with_priority_and_brackets_of_their_own():
    parsed = read_title("[P1] [Re-Triggered on {host:a,env:prod}] [prod] Disk full")
    assert (parsed.priority, parsed.transition, parsed.scope, parsed.name) == (
        "P1",
        "re-triggered",
        "host:a,env:prod",
        "[prod] Disk full",
    )
    assert read_title("Disk full").transition is None


def test_empty_variables_count_as_absent_and_a_payload_without_id_is_scoped_to_its_incident():
    body = {
        "title": "[Triggered] Queue backlog",
        "alert_priority": "",
        "aggreg_key": "",
        "hostname": "",
        "tags": "",
        "date": "",
    }

    signal = one(body)

    assert signal.hints.explicit is None and signal.occurred_at == RECEIVED
    assert signal.dedup_key == "datadog:title:Queue backlog|group:"
    assert signal.scoped_delivery


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": None}, "title is required"),
        ({"title": 7}, "title must be a string"),
        ({"alert_transition": "Paused"}, "alert_transition must be one of"),
        ({"alert_priority": "urgent"}, "alert_priority must be P1, P2, P3, P4 or P5"),
        ({"alert_id": {"id": 1}}, "alert_id must be a string or a whole number"),
        ({"date": "yesterday"}, "date is not a date-time"),
        ({"date": True}, "date must be epoch milliseconds"),
        ({"tags": [1]}, r"tags\[0\] must be a string"),
        ({"link": "javascript:alert(1)"}, "link must be an http"),
        ({"org": "Example"}, "org must be an object"),
    ],
)
def test_a_wrong_field_is_refused_by_name(change: dict[str, Any], message: str):
    body = {**sample("datadog_webhook_siren_triggered.json"), **change}

    with pytest.raises(ParseError, match=message):
        parse_datadog(body, RECEIVED)


def test_a_title_without_transition_needs_alert_transition():
    body = sample("datadog_webhook_default_triggered.json")
    body["title"] = "Disk almost full"

    with pytest.raises(ParseError, match='add "alert_transition": "\\$ALERT_TRANSITION"'):
        parse_datadog(body, RECEIVED)


def test_the_judge_refuses_the_alert_not_the_request_and_a_non_object_body_whole():
    judged = JUDGES_BY_SOURCE["datadog"]({"title": "no transition"}, RECEIVED, None)
    assert (judged.total, judged.accepted) == (1, ())
    assert judged.refused[0].index == 0 and "alert_transition" in judged.refused[0].reason

    with pytest.raises(ParseError, match="must be a JSON object"):
        JUDGES_BY_SOURCE["datadog"]([], RECEIVED, None)


def test_trigger_retrigger_and_recovery_are_one_incident_on_the_fakes():
    store = FakeIncidentRepository()
    ingest = Ingestor(store, CONFIG, clock=lambda: RECEIVED)
    triggered = sample("datadog_webhook_siren_triggered.json")
    retriggered = {**triggered, "id": "7709842341230617555", "alert_transition": "Re-Triggered"}
    recovered = sample("datadog_webhook_siren_recovered.json")

    results = [ingest.ingest(one(body), body) for body in (triggered, triggered, retriggered, recovered)]

    assert [r.action for r in results][:3] == ["opened", "duplicate_delivery", "appended"]
    assert len({r.incident_id for r in results if r.incident_id}) == 1
    incident = store.get(results[0].incident_id)  # type: ignore[arg-type]
    assert incident is not None and incident.status in (IncidentStatus.RESOLVED, IncidentStatus.RECOVERED)
