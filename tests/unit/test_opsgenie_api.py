"""Opsgenie's Alert API on Siren's webhook: a sender of Opsgenie moves by changing its URL and key.

GIVEN the front door with the Opsgenie API wired on fakes (the store, the heartbeat records, the dead-letter queue,
the rate counter) and siren.yaml as shipped (integration ``zabbix-checkout`` -> service checkout), WHEN requests
arrive as Opsgenie's clients and Alertmanager's ``opsgenie_configs`` send them, THEN incidents open, join,
acknowledge, resolve and take notes as Opsgenie's alerts would, answers have Opsgenie's shapes, and a refused request
writes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.app.heartbeats import Heartbeats
from siren.app.incidents import Incidents
from siren.app.ingest import Ingestor
from siren.app.intake import Intake, RateLimit
from siren.app.opsgenie_api import OpsgenieApi
from siren.config import load_config
from siren.domain.incidents import IncidentStatus, TimelineKind
from siren.domain.integration_keys import integration_key
from siren.domain.policy import OPSGENIE
from tests.fakes import FakeDeadLetters, FakeRequestRates, FakeStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
SECRET = b"integration-secret-for-tests"
KEY = integration_key(SECRET, OPSGENIE, CONFIG.integrations.opsgenie[0])
ALERTMANAGER_ALIAS = "6f1a9b1cdd2c4e0f8a5e3b7c9d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e"


class Door:
    def __init__(self, rate_limit: int | None = None) -> None:
        self.store = FakeStore()
        self.dead_letters = FakeDeadLetters()
        self.rates = FakeRequestRates(rate_limit or 0, retry_after=17)
        clock = lambda: NOW  # noqa: E731 - a fixed clock
        ingestor = Ingestor(self.store.incidents, CONFIG, clock)
        self.ids = iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 1000))
        api = OpsgenieApi(
            lambda: SECRET,
            CONFIG,
            lambda: Incidents(self.store.incidents, CONFIG, clock),
            new_request_id=lambda: next(self.ids),
        )
        self.intake = Intake(
            ingestor,
            self.dead_letters,  # type: ignore[arg-type]
            webhook_token=lambda: "webhook-token",
            clock=clock,
            heartbeats=Heartbeats(self.store.heartbeats, CONFIG, ingestor, clock),
            rate_limit=RateLimit(self.rates, per_minute=rate_limit) if rate_limit else None,  # type: ignore[arg-type]
            vendor_apis={"opsgenie": api},
        )

    def send(
        self,
        path: str,
        body: Any = None,
        *,
        key: str | None = KEY,
        method: str = "POST",
        query: str = "",
        raw: str | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = {"content-type": "application/json"}
        if key is not None:
            headers["Authorization"] = f"GenieKey {key}"
        response = self.intake.webhook(
            {
                "rawPath": f"/opsgenie/{path}",
                "rawQueryString": query,
                "requestContext": {"http": {"method": method, "sourceIp": "192.0.2.7"}},
                "headers": headers,
                "body": raw if raw is not None else ("" if body is None else json.dumps(body)),
            }
        )
        return response["statusCode"], json.loads(response["body"]), response["headers"]

    def incidents(self) -> list[Any]:
        return sorted(self.store.incidents.incidents.values(), key=lambda incident: incident.opened_at)

    def written(self) -> int:
        return len(self.store.incidents.applied) + sum(len(t) for t in self.store.incidents.timelines.values())


def opened_details(door: Door, incident_id: str) -> dict[str, str]:
    """The signal's details, as the incident's OPENED entry keeps them."""
    (opened,) = [e for e in door.store.incidents.timeline(incident_id) if e.kind is TimelineKind.OPENED]
    return dict(opened.data["details"])


def test_create_opens_an_incident_on_the_integrations_service_with_the_priority_as_severity():
    door = Door()
    status, answer, headers = door.send(
        "v2/alerts",
        {
            "message": "Checkout p99 above 2 s",
            "alias": "checkout-latency",
            "description": "p99 2.4 s for 10 min",
            "priority": "P2",
            "tags": ["checkout", "latency"],
            "details": {"team": "payments", "runbook": "https://runbooks.example/checkout"},
            "entity": "checkout-api",
            "source": "zabbix",
            "responders": [{"type": "team", "name": "payments"}],
        },
    )

    assert status == 202
    assert answer["result"] == "Request will be processed" and isinstance(answer["took"], float)
    assert answer["requestId"] == headers["x-request-id"] == "00000000-0000-4000-8000-000000000001"
    (incident,) = door.incidents()
    assert (incident.service, incident.severity, incident.title) == ("checkout", "SEV2", "Checkout p99 above 2 s")
    assert incident.dedup_key == "opsgenie:zabbix-checkout:checkout-latency"
    assert incident.source == "opsgenie"
    signal_details = opened_details(door, incident.id)
    assert signal_details["team"] == "payments"
    assert signal_details["opsgenie.tags"] == "checkout, latency"
    assert signal_details["opsgenie.entity"] == "checkout-api"
    assert "responders" not in json.dumps(signal_details)  # ignored: siren.yaml's policy pages


def test_the_same_alias_joins_the_open_incident_and_a_create_without_alias_is_its_own():
    door = Door()
    for _ in range(2):
        assert door.send("v2/alerts", {"message": "Disk full", "alias": "disk-full"})[0] == 202
    assert door.send("v2/alerts", {"message": "Disk full"})[0] == 202
    assert door.send("v2/alerts", {"message": "Disk full"})[0] == 202

    first, second, third = door.incidents()
    assert first.alert_count == 2  # appended, as Opsgenie de-duplicates by alias
    assert second.dedup_key != third.dedup_key  # no alias: each create is an alert of its own


def test_priority_defaults_to_p3_and_maps_through_the_configured_priorities():
    door = Door()
    door.send("v2/alerts", {"message": "default priority", "alias": "a"})
    door.send("v2/alerts", {"message": "lowest", "alias": "b", "priority": "p5"})
    assert [i.severity for i in door.incidents()] == [CONFIG.integrations.opsgenie_priorities["P3"], "SEV5"]


def test_a_long_message_is_cut_to_opsgenies_130_characters_and_kept_whole_in_the_details():
    door = Door()
    door.send("v2/alerts", {"message": "x" * 200, "alias": "long"})
    (incident,) = door.incidents()
    assert incident.title == "x" * 130
    assert opened_details(door, incident.id)["opsgenie.message"] == "x" * 200


@pytest.mark.parametrize(
    ("body", "field_at_fault"),
    [
        ({}, "message"),
        ({"message": "   "}, "message"),
        ({"message": 42}, "message"),
        ({"message": "m", "priority": "P9"}, "priority"),
        ({"message": "m", "alias": "a" * 513}, "alias"),
        ({"message": "m", "tags": "a,b"}, "tags"),
        ({"message": "m", "details": ["a"]}, "details"),
        ({"message": "m", "details": {"a": {"nested": 1}}}, "details"),
        (["message"], "body"),
    ],
)
def test_an_invalid_create_is_422_naming_the_field_and_writes_nothing_but_the_dead_letter(body, field_at_fault):
    door = Door()
    status, answer, _ = door.send("v2/alerts", body)

    assert status == 422
    assert answer["message"] == "Request body is not processable. Please check the errors."
    assert list(answer["errors"]) == [field_at_fault]
    assert set(answer) == {"message", "errors", "took", "requestId"}
    assert door.written() == 0
    ((_, source, reason),) = door.dead_letters.kept
    assert source == "opsgenie" and reason == answer["errors"][field_at_fault]


def test_a_body_that_is_not_json_is_400_and_writes_nothing():
    door = Door()
    status, answer, _ = door.send("v2/alerts", raw="{not json")
    assert status == 400 and answer["message"].startswith("Request body is not valid JSON")
    assert door.written() == 0


@pytest.mark.parametrize(
    "key",
    [None, "", "00000000-0000-4000-8000-000000000000", "Bearer webhook-token"],
)
def test_a_missing_or_unknown_key_is_401_in_opsgenies_shape_and_writes_nothing(key):
    door = Door()
    status, answer, _ = door.send("v2/alerts", {"message": "m"}, key=key)
    assert status == 401
    assert answer["message"] == "Could not authenticate" and {"took", "requestId"} <= set(answer)
    assert door.written() == 0 and door.dead_letters.kept == []


def test_the_webhook_token_is_not_an_opsgenie_key():
    door = Door()
    response = door.intake.webhook(
        {
            "rawPath": "/opsgenie/v2/alerts",
            "requestContext": {"http": {"method": "POST"}},
            "headers": {"authorization": "Bearer webhook-token"},
            "body": json.dumps({"message": "m"}),
        }
    )
    assert response["statusCode"] == 401 and door.written() == 0


def test_a_key_over_its_rate_is_429_with_retry_after_and_counted_per_integration():
    door = Door(rate_limit=2)
    statuses = [door.send("v2/alerts", {"message": "m", "alias": "same"})[0] for _ in range(3)]
    status, answer, headers = door.send("v2/alerts", {"message": "m", "alias": "same"})

    assert statuses == [202, 202, 429] and status == 429
    assert headers["retry-after"] == "17" and "too many requests" in answer["message"]
    assert set(door.rates.taken) == {"opsgenie:zabbix-checkout"}
    assert door.incidents()[0].alert_count == 2


def open_incident(door: Door, alias: str = "disk-full") -> str:
    door.send("v2/alerts", {"message": "Disk full", "alias": alias})
    return next(i.id for i in door.incidents() if i.dedup_key.endswith(f":{alias}"))


def test_acknowledge_by_alias_acknowledges_as_the_body_user_via_the_alert_api():
    door = Door()
    incident_id = open_incident(door)

    status, answer, _ = door.send(
        "v2/alerts/disk-full/acknowledge", {"user": "ana", "source": "cli"}, query="identifierType=alias"
    )

    assert (status, answer["result"]) == (202, "Request will be processed")
    incident = door.store.incidents.incidents[incident_id]
    assert (incident.status, incident.acknowledged_by) == (IncidentStatus.ACKNOWLEDGED, "ana")
    (entry,) = [e for e in door.store.incidents.timeline(incident_id) if e.kind is TimelineKind.ACKNOWLEDGED]
    assert entry.data["via"] == "opsgenie-alert-api"


def test_acknowledge_by_id_is_siren_incident_id_and_the_actor_defaults_to_the_integration():
    door = Door()
    incident_id = open_incident(door)
    assert door.send(f"v2/alerts/{incident_id}/acknowledge")[0] == 202  # no body, identifierType defaults to id
    assert door.store.incidents.incidents[incident_id].acknowledged_by == "opsgenie:zabbix-checkout"


def test_close_resolves_with_the_note_and_the_next_create_opens_a_new_incident():
    door = Door()
    incident_id = open_incident(door)

    status, _, _ = door.send(
        "v2/alerts/disk-full/close", {"note": "freed 40 GB", "user": "ana"}, query="identifierType=alias"
    )

    assert status == 202
    incident = door.store.incidents.incidents[incident_id]
    assert (incident.status, incident.resolved_by) == (IncidentStatus.RESOLVED, "ana")
    assert any("freed 40 GB" in e.detail for e in door.store.incidents.timeline(incident_id))
    open_incident(door)
    assert len(door.incidents()) == 2


def test_closing_again_what_is_closed_is_accepted_and_changes_nothing():
    """Alertmanager repeats its resolve; a 404 would count as a failed notification each time."""
    door = Door()
    incident_id = open_incident(door)
    door.send("v2/alerts/disk-full/close", {}, query="identifierType=alias")
    written = door.written()

    assert door.send("v2/alerts/disk-full/close", {}, query="identifierType=alias")[0] == 202
    assert door.send(f"v2/alerts/{incident_id}/close", {})[0] == 202
    assert door.written() == written


def test_notes_go_on_the_timeline_and_an_empty_note_is_422():
    door = Door()
    incident_id = open_incident(door)

    assert door.send("v2/alerts/disk-full/notes", {"note": "rotated logs"}, query="identifierType=alias")[0] == 202
    notes = [e for e in door.store.incidents.timeline(incident_id) if e.kind is TimelineKind.NOTE]
    assert [(n.detail, n.actor) for n in notes] == [("rotated logs", "opsgenie:zabbix-checkout")]

    written = door.written()
    status, answer, _ = door.send("v2/alerts/disk-full/notes", {"user": "ana"}, query="identifierType=alias")
    assert (status, answer["errors"]) == (422, {"note": "Note can not be empty."})
    assert door.written() == written


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("v2/alerts/no-such-alias/acknowledge", "identifierType=alias"),
        ("v2/alerts/no-such-id/acknowledge", ""),
        ("v2/alerts/no-such-alias/notes", "identifierType=alias"),
    ],
)
def test_an_action_on_an_unknown_alert_is_404_and_writes_nothing(path, query):
    door = Door()
    open_incident(door)
    written = door.written()
    status, answer, _ = door.send(path, {"note": "n"}, query=query)
    assert (status, answer["message"]) == (404, "Alert does not exist")
    assert door.written() == written


def test_an_alias_is_the_integrations_own():
    """Another integration's alias is not this one's: the dedup key is namespaced by the integration."""
    door = Door()
    open_incident(door)
    door.store.incidents.keys["opsgenie:other:x"] = door.store.incidents.keys["opsgenie:zabbix-checkout:disk-full"]
    assert door.send("v2/alerts/x/acknowledge", {}, query="identifierType=alias")[0] == 404


def test_identifier_type_tiny_is_refused():
    door = Door()
    open_incident(door)
    status, answer, _ = door.send("v2/alerts/1/acknowledge", {}, query="identifierType=tiny")
    assert status == 422 and list(answer["errors"]) == ["identifierType"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_heartbeat_ping_pongs_and_is_recorded(method):
    door = Door()
    status, answer, _ = door.send("v2/heartbeats/search-reindex/ping", method=method)
    assert (status, answer["result"]) == (202, "PONG - Heartbeat received")
    assert door.store.heartbeats.states["search-reindex"].last_ping_at == NOW


def test_a_ping_of_an_unknown_heartbeat_is_404():
    door = Door()
    status, answer, _ = door.send("v2/heartbeats/no-such/ping")
    assert status == 404 and "does not exist" in answer["message"]


def test_unknown_routes_and_methods():
    door = Door()
    assert door.send("v2/incidents", {"message": "m"})[0] == 404
    status, _, headers = door.send("v2/alerts", method="GET")
    assert (status, headers["allow"]) == (405, "POST")
    assert door.written() == 0


def test_alertmanagers_opsgenie_configs_create_repeat_and_close_on_resolve():
    """The bodies Alertmanager's notifier (notify/opsgenie) sends: the group key's hash as alias, the group's common
    labels as details, and on resolve a close by alias with only a source."""
    door = Door()
    create = {
        "alias": ALERTMANAGER_ALIAS,
        "message": "[FIRING:1] CheckoutDown (checkout critical)",
        "description": "Alerts Firing:\nLabels:\n - alertname = CheckoutDown\n",
        "details": {"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"},
        "source": "http://alertmanager:9093/#/alerts?receiver=opsgenie",
        "tags": ["checkout", "prod"],
        "priority": "P1",
    }
    assert door.send("v2/alerts", create)[0] == 202
    assert door.send("v2/alerts", create)[0] == 202  # group_interval: the same group again
    (incident,) = door.incidents()
    assert (incident.alert_count, incident.severity) == (2, "SEV1")

    status, _, _ = door.send(
        f"v2/alerts/{ALERTMANAGER_ALIAS}/close",
        {"source": create["source"]},
        query="identifierType=alias",
    )
    assert status == 202
    assert door.store.incidents.incidents[incident.id].status is IncidentStatus.RESOLVED
