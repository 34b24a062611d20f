"""PagerDuty's Events API v2 on fakes: a sender pointed at PagerDuty gets PagerDuty's answers from Siren.

GIVEN the shipped siren.yaml (integration prometheus-payments -> service payments), the front door with the real
ingest use case on the fake store (tests/fakes.py), a recording dead-letter queue and rate counter,
WHEN events arrive at ``pagerduty/v2/enqueue`` (trigger, repeat, acknowledge, resolve, and every kind of wrong one)
THEN they open, append to, acknowledge and resolve one incident per dedup key, and every refusal is a 400 (or 429)
in PagerDuty's shape that names the field at fault, with nothing written to the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.app.incidents import Incidents
from siren.app.ingest import Ingestor
from siren.app.intake import Intake, RateLimit
from siren.app.pagerduty_api import PagerDutyEventsApi
from siren.config import load_config
from siren.domain.incidents import IncidentStatus, LifecycleEventType
from siren.domain.integration_keys import integration_key
from siren.domain.parsers.pagerduty import InvalidEvent, alert_signal, read_alert_event
from siren.domain.policy.integrations import PAGERDUTY, Integration, Integrations
from siren.domain.signals import SignalStatus
from tests.fakes import FakeDeadLetters, FakeIncidentRepository, FakeRequestRates

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
SECRET = b"the-stack-integration-secret"
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
(PAYMENTS,) = CONFIG.integrations.pagerduty
KEY = integration_key(SECRET, PAGERDUTY, PAYMENTS)


@dataclass
class Door:
    intake: Intake
    store: FakeIncidentRepository
    dead_letters: FakeDeadLetters
    incidents_built: list[int]

    def post(self, body: Any, path: str = "pagerduty/v2/enqueue", method: str = "POST") -> tuple[int, Any, Any]:
        response = self.intake.webhook(
            {
                "rawPath": f"/{path}",
                "requestContext": {"http": {"method": method, "sourceIp": "192.0.2.7"}},
                "headers": {"content-type": "application/json"},  # no bearer token: the routing key is the credential
                "body": body if isinstance(body, str) else json.dumps(body),
            }
        )
        return response["statusCode"], json.loads(response["body"]), response["headers"]

    def nothing_written(self) -> bool:
        return not (self.store.incidents or self.store.raw_alerts or self.store.outbox or self.store.keys)


def door(rates: FakeRequestRates | None = None, integrations: Integrations = CONFIG.integrations) -> Door:
    store, dead_letters, built = FakeIncidentRepository(), FakeDeadLetters(), []

    def incidents() -> Incidents:
        built.append(1)
        return Incidents(store, CONFIG, clock=lambda: NOW)

    api = PagerDutyEventsApi(integrations, lambda: SECRET, incidents, new_key=lambda: "generated-key")
    intake = Intake(
        Ingestor(store, CONFIG, clock=lambda: NOW),
        dead_letters,
        webhook_token=lambda: "the-webhook-token",
        clock=lambda: NOW,
        rate_limit=RateLimit(rates, per_minute=5) if rates else None,
        vendor_apis={"pagerduty": api},
    )
    return Door(intake, store, dead_letters, built)


def trigger(**changes: Any) -> dict[str, Any]:
    """The trigger of PagerDuty's documentation, with this stack's routing key."""
    event: dict[str, Any] = {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": "payments-db-disk",
        "payload": {
            "summary": "Disk 95% full on payments-db-1",
            "source": "payments-db-1.example.com",
            "severity": "critical",
            "timestamp": "2026-03-01T09:29:00.000+0000",
            "component": "postgres",
            "group": "payments-db",
            "class": "disk",
            "custom_details": {"free": "5%", "load avg": 0.75},
        },
        "links": [{"href": "https://grafana.example.com/d/db", "text": "Dashboard"}],
        "images": [{"src": "https://grafana.example.com/render/db.png", "alt": "disk"}],
        "client": "Prometheus",
        "client_url": "https://prometheus.example.com",
    }
    event.update(changes)
    return event


@pytest.fixture
def front() -> Door:
    return door()


# -- taken -------------------------------------------------------------------------------------------------------
def test_a_trigger_opens_an_incident_on_the_integrations_service_with_the_mapped_severity(front):
    status, answer, _ = front.post(trigger())

    assert (status, answer) == (
        202,
        {"status": "success", "message": "Event processed", "dedup_key": "payments-db-disk"},
    )
    (incident,) = front.store.incidents.values()
    assert (incident.service, incident.severity, incident.status) == ("payments", "SEV1", IncidentStatus.OPEN)
    assert incident.title == "Disk 95% full on payments-db-1"
    assert incident.dedup_key == "pagerduty:prometheus-payments:payments-db-disk"
    assert incident.source == "pagerduty"
    ((_, raw),) = front.store.raw_alerts.items()
    assert "routing_key" not in json.dumps(raw.payload) and KEY not in json.dumps(raw.payload)  # no credential kept
    assert len(front.store.events_of(LifecycleEventType.OPENED)) == 1
    assert front.incidents_built == []  # a trigger does not build the acknowledge's use case


def test_the_severity_map_of_the_configuration_decides_the_sev_level(front):
    for n, (severity, expected) in enumerate([("error", "SEV2"), ("warning", "SEV3"), ("info", "SEV4")]):
        body = trigger(dedup_key=f"k{n}")
        body["payload"]["severity"] = severity
        assert front.post(body)[0] == 202
        incident = next(i for i in front.store.incidents.values() if i.dedup_key.endswith(f":k{n}"))
        assert incident.severity == expected


def test_a_trigger_without_a_dedup_key_gets_one_and_is_told_it(front):
    status, answer, _ = front.post(trigger(dedup_key=None))
    assert (status, answer["dedup_key"]) == (202, "generated-key")
    (incident,) = front.store.incidents.values()
    assert incident.dedup_key == "pagerduty:prometheus-payments:generated-key"


def test_a_repeated_trigger_joins_the_same_incident(front):
    front.post(trigger())
    again = trigger()
    again["payload"]["summary"] = "Disk 97% full on payments-db-1"
    status, _, _ = front.post(again)
    retried = front.post(again)  # the sender's retry of the same event: applied once

    assert status == 202 and retried[0] == 202
    (incident,) = front.store.incidents.values()
    assert incident.alert_count == 2
    assert len(front.store.events_of(LifecycleEventType.OPENED)) == 1


def test_acknowledge_acknowledges_the_open_incident_of_the_key(front):
    front.post(trigger())
    status, answer, _ = front.post({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "payments-db-disk"})

    assert (status, answer["dedup_key"]) == (202, "payments-db-disk")
    (incident,) = front.store.incidents.values()
    assert incident.status is IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_by == "pagerduty:prometheus-payments"
    (event,) = front.store.events_of(LifecycleEventType.ACKNOWLEDGED)
    assert event.detail["via"] == "pagerduty-events-api"


def test_acknowledge_of_a_key_with_no_open_incident_is_answered_as_pagerduty_does_and_changes_nothing(front):
    status, answer, _ = front.post({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "nothing-open"})
    assert (status, answer["status"]) == (202, "success")
    assert front.nothing_written()


def test_resolve_resolves_and_the_next_trigger_opens_a_new_incident(front):
    front.post(trigger())
    # Alertmanager sends its resolve with the trigger's payload: it is not judged
    status, _, _ = front.post({**trigger(), "event_action": "resolve", "payload": {"severity": "nonsense"}})
    assert status == 202
    (incident,) = front.store.incidents.values()
    assert incident.status is IncidentStatus.RESOLVED  # payments: on_recovery resolve

    assert front.post(trigger())[0] == 202
    assert sorted(i.status for i in front.store.incidents.values()) == [IncidentStatus.OPEN, IncidentStatus.RESOLVED]


def test_two_integrations_with_the_same_dedup_key_never_meet():
    other = Integration("grafana-search", "search")
    front = door(integrations=replace(CONFIG.integrations, pagerduty=(PAYMENTS, other)))

    front.post(trigger())
    front.post(trigger(routing_key=integration_key(SECRET, PAGERDUTY, other)))

    assert sorted((i.service, i.dedup_key) for i in front.store.incidents.values()) == [
        ("payments", "pagerduty:prometheus-payments:payments-db-disk"),
        ("search", "pagerduty:grafana-search:payments-db-disk"),
    ]


def test_a_change_event_is_answered_as_pagerduty_does(front):
    body = {"routing_key": KEY, "payload": {"summary": "Deployed payments v42", "source": "ci"}}
    status, answer, _ = front.post(body, path="pagerduty/v2/change/enqueue")
    assert (status, answer) == (202, {"status": "success", "message": "Change event processed"})
    assert front.nothing_written()  # no incident: recorded as a change (tests/unit/test_change_events.py)


# -- refused -----------------------------------------------------------------------------------------------------
def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    parent, _, name = path.rpartition(".")
    (body[parent] if parent else body).pop(name)
    return body


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (without(trigger(), "event_action"), "'event_action' is missing or blank"),
        (trigger(event_action="escalate"), "'event_action' is invalid (must be one of trigger, acknowledge, resolve"),
        (without(trigger(), "payload"), "'payload' is missing or blank"),
        (without(trigger(), "payload.summary"), "'payload.summary' is missing or blank"),
        (without(trigger(), "payload.source"), "'payload.source' is missing or blank"),
        (without(trigger(), "payload.severity"), "'payload.severity' is missing or blank"),
        (trigger(payload={**trigger()["payload"], "severity": "high"}), "'payload.severity' is invalid"),
        (trigger(payload={**trigger()["payload"], "summary": "x" * 1025}), "'payload.summary' is too long"),
        (trigger(payload={**trigger()["payload"], "timestamp": "yesterday"}), "'payload.timestamp' is invalid"),
        (trigger(payload={**trigger()["payload"], "component": 7}), "'payload.component' is invalid"),
        (trigger(dedup_key="k" * 256), "'dedup_key' is too long"),
        (trigger(links=[{"text": "no href"}]), "'links[0].href' is missing or blank"),
        (trigger(images="a picture"), "'images' is invalid"),
        ({"routing_key": KEY, "event_action": "resolve"}, "'dedup_key' is missing or blank"),
        ({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": ""}, "'dedup_key' is missing or blank"),
    ],
)
def test_an_invalid_event_is_a_400_naming_its_field_and_is_kept_as_a_dead_letter(front, body, error):
    status, answer, _ = front.post(body)

    assert status == 400
    assert (answer["status"], answer["message"]) == ("invalid event", "Event object is invalid")
    assert any(e.startswith(error) for e in answer["errors"]), answer["errors"]
    assert front.nothing_written()
    ((kept, source, reason),) = front.dead_letters.kept
    assert (source, kept["integration"]) == ("pagerduty", "prometheus-payments") and error in reason
    assert "routing_key" not in kept


def test_every_problem_of_an_event_is_named_at_once(front):
    _, answer, _ = front.post(trigger(payload={"summary": "", "severity": "fatal"}))
    assert answer["errors"] == [
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is invalid (must be one of critical, error, warning, info; got 'fatal')",
    ]


@pytest.mark.parametrize(
    ("routing_key", "errors"),
    [
        (None, ["'routing_key' is missing or blank"]),
        ("short", ["Length of 'routing_key' is incorrect (should be 32 characters)"]),
        ("x" * 31 + "!", ["'routing_key' cannot contain non-alphanumeric characters."]),
        ("0" * 32, ["Invalid routing key"]),  # the right shape, no integration's key
        (integration_key(b"another stack's secret", PAGERDUTY, PAYMENTS), ["Invalid routing key"]),
        (
            integration_key(SECRET, PAGERDUTY, Integration("prometheus-payments", "payments", 2)),
            ["Invalid routing key"],
        ),
    ],
)
def test_a_bad_routing_key_is_refused_as_pagerduty_refuses_it_and_nothing_is_kept(front, routing_key, errors):
    status, answer, _ = front.post(trigger(routing_key=routing_key))
    assert (status, answer["status"], answer["errors"]) == (400, "invalid event", errors)
    assert front.nothing_written() and front.dead_letters.kept == []  # anyone can send these: not kept


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", json.dumps("a string")])
def test_a_body_that_is_not_an_event_object_is_a_400(front, body):
    status, answer, _ = front.post(body)
    assert (status, answer["status"]) == (400, "invalid event") and answer["errors"]
    assert front.nothing_written()


def test_an_event_over_pagerdutys_size_limit_is_refused(front):
    status, answer, _ = front.post(trigger(payload={**trigger()["payload"], "custom_details": "x" * 600_000}))
    assert status == 400 and "the limit is 524288" in answer["errors"][0]
    assert front.nothing_written()


def test_the_rate_is_counted_per_integration_and_a_flood_gets_429_in_pagerdutys_shape():
    rates = FakeRequestRates(limit_reached_after=2)
    front = door(rates)
    answers = [front.post(trigger(dedup_key=f"k{n}")) for n in range(3)]

    assert [status for status, _, _ in answers] == [202, 202, 429]
    _, body, headers = answers[2]
    assert body["status"] == "throttle event" and headers["retry-after"] == "42"
    assert rates.taken == ["pagerduty:prometheus-payments"] * 3  # keyed by integration, never by the key itself
    assert len(front.store.incidents) == 2


def test_an_unknown_routing_key_does_not_count_against_any_rate():
    rates = FakeRequestRates(limit_reached_after=0)
    front = door(rates)
    assert front.post(trigger(routing_key="0" * 32))[0] == 400
    assert rates.taken == []


def test_other_paths_and_methods_are_refused_without_reading_the_body(front):
    assert front.post(trigger(), path="pagerduty/v2/alerts")[0] == 404
    status, _, headers = front.post(trigger(), method="GET")
    assert (status, headers["allow"]) == (405, "POST")
    assert front.nothing_written()


def test_the_webhooks_own_paths_still_need_the_bearer_token(front):
    status, _, _ = front.post({"dedup_key": "k", "title": "t"}, path="generic")
    assert status == 401


# -- the parser alone --------------------------------------------------------------------------------------------
def test_the_parser_reads_every_documented_field():
    event = read_alert_event(trigger())
    assert (event.component, event.group, event.event_class, event.client) == (
        "postgres",
        "payments-db",
        "disk",
        "Prometheus",
    )
    assert [link.href for link in event.links] == ["https://grafana.example.com/d/db"]
    assert [image.href for image in event.images] == ["https://grafana.example.com/render/db.png"]
    assert event.custom_details == {"free": "5%", "load avg": 0.75}


def test_the_parser_raises_only_invalid_event_whatever_the_body():
    bodies: list[Any] = [None, 3, [], {"routing_key": KEY, "event_action": []}, {"routing_key": KEY, "payload": []}]
    for body in bodies:
        with pytest.raises(InvalidEvent):
            read_alert_event(body)


def test_the_signal_keeps_what_responders_need_and_no_credential():
    signal = alert_signal(
        read_alert_event(trigger()),
        "prometheus-payments",
        "payments",
        severity="SEV1",
        dedup_key="payments-db-disk",
        received_at=NOW,
    )

    assert signal.occurred_at == datetime(2026, 3, 1, 9, 29, tzinfo=UTC)  # payload.timestamp, not the receive time
    assert signal.link == "https://grafana.example.com/d/db"  # the first link, before client_url
    assert signal.hints.explicit == "SEV1" and signal.hints.labels["component"] == "postgres"
    assert json.loads(signal.details["custom_details"]) == {"free": "5%", "load avg": 0.75}
    assert signal.details["source"] == "payments-db-1.example.com"
    assert json.loads(signal.details["images"]) == [
        {"href": "https://grafana.example.com/render/db.png", "text": "disk"}
    ]
    assert all(KEY not in value for value in signal.details.values())

    # The delivery id is the event's content: the same event again is the same delivery, another is another.
    again = alert_signal(
        read_alert_event(trigger()),
        "prometheus-payments",
        "payments",
        severity="SEV1",
        dedup_key="payments-db-disk",
        received_at=NOW,
    )
    other = alert_signal(
        read_alert_event(trigger(client="Zabbix")),
        "prometheus-payments",
        "payments",
        severity="SEV1",
        dedup_key="payments-db-disk",
        received_at=NOW,
    )
    assert signal.delivery_id == again.delivery_id != other.delivery_id and signal.scoped_delivery

    resolved = alert_signal(
        read_alert_event({"routing_key": KEY, "event_action": "resolve", "dedup_key": "k"}),
        "p",
        "payments",
        severity=None,
        dedup_key="k",
        received_at=NOW,
    )
    assert (resolved.status, resolved.title, resolved.occurred_at) == (SignalStatus.RESOLVED, "k", NOW)
