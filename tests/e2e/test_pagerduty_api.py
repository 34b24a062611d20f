"""PagerDuty's Events API v2 through the deployed stack, driven by PagerDuty's own client library.

GIVEN the synthesized Siren stack deployed on the embedded local AWS over HTTP (siren.yaml as shipped: the PagerDuty
integration prometheus-payments opens incidents on payments), and the integration's routing key derived from the
deployed stack's integration secret, as ``siren integrations keys`` prints it,
WHEN the ``pagerduty`` package's EventsApiV2Client (pointed at ``<WebhookUrl>pagerduty``) and an Alertmanager-shaped
``pagerduty_configs`` body send events,
THEN trigger -> one incident, repeat -> the same incident, acknowledge -> acknowledged, resolve -> resolved; a bad
key and a malformed event are refused as PagerDuty refuses them, with nothing written; and a trigger pages the
on-call person.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pagerduty import EventsApiV2Client, HttpError

from siren.config import load_config
from siren.domain.integration_keys import integration_key
from siren.domain.policy.integrations import PAGERDUTY
from tests.alertmanager_harness import AlertmanagerSetupError, ensure_alertmanager, running_alertmanager
from tests.e2e.test_escalation import messages_to, on_call
from tests.e2e.test_ingest_paths import incidents, post
from tests.support import wait_for

pytestmark = pytest.mark.e2e
CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
(PAYMENTS,) = CONFIG.integrations.pagerduty


def routing_key(runtime: Any) -> str:
    """The integration's key, derived from the deployed secret as `siren integrations keys` derives it."""
    arn = runtime.stacks["Siren"].outputs["IntegrationSecretArn"]
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return integration_key(secret.encode(), PAGERDUTY, PAYMENTS)


class PlainHttp(httpx2.HTTPTransport):
    """The client takes https:// base URLs only; the embedded local AWS serves plain HTTP. Same host, port, path
    and body: only the scheme is changed on the way out."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme="http")
        return super().handle_request(request)


def client(runtime: Any, key: str) -> EventsApiV2Client:
    webhook_url = runtime.info()["webhook_url"].rstrip("/")
    assert webhook_url.startswith("http://")
    base_url = "https://" + webhook_url.removeprefix("http://") + "/pagerduty"  # as <WebhookUrl>pagerduty on AWS
    events = EventsApiV2Client(key, base_url=base_url, transport=PlainHttp())
    events.max_http_attempts = 1  # a refusal is asserted, not retried
    return events


def incident_items(runtime: Any) -> list[str]:
    """The kinds of the table's items that an alert writes (its incident, timeline, key, raw alert, outbox)."""
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    written = {"incident", "timeline", "key", "alert", "event"}
    return [item["kind"]["S"] for item in items if item.get("kind", {}).get("S") in written]


def test_pagerdutys_client_triggers_repeats_acknowledges_and_resolves_one_incident(local_http):
    events = client(local_http, routing_key(local_http))

    key = events.trigger("Card declines above 30%", "payments-api-1", dedup_key="declines", severity="critical")
    again = events.trigger("Card declines above 40%", "payments-api-1", dedup_key="declines", severity="critical")

    assert key == again == "declines"
    (incident,) = incidents(local_http)
    assert (incident["status"], incident["service"], incident["severity"]) == ("open", "payments", "SEV1")
    assert int(incident["alert_count"]) == 2

    assert events.acknowledge("declines") == "declines"
    (incident,) = incidents(local_http)
    assert (incident["status"], incident["acknowledged_by"]) == ("acknowledged", "pagerduty:prometheus-payments")

    assert events.resolve("declines") == "declines"
    (incident,) = incidents(local_http)
    assert incident["status"] == "resolved"

    # A trigger without a key gets one, and it is the key of a new incident.
    generated = events.trigger("Payouts stuck", "payouts-1", severity="warning")
    assert len(generated) == 32
    opened = [i for i in incidents(local_http) if i["status"] == "open"]
    assert [(i["dedup_key"], i["severity"]) for i in opened] == [(f"pagerduty:prometheus-payments:{generated}", "SEV3")]

    events.send_change_event(payload={"summary": "Deployed payments v42", "source": "ci"})  # answered 202


def test_a_bad_key_and_a_malformed_event_are_refused_as_pagerduty_refuses_them(local_http):
    with pytest.raises(HttpError) as refused:
        client(local_http, "0" * 32).trigger("Card declines", "payments-api-1", dedup_key="k")
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["errors"] == ["Invalid routing key"]

    with pytest.raises(HttpError) as malformed:
        client(local_http, routing_key(local_http)).trigger("Card declines", "payments-api-1", severity="fatal")
    assert malformed.value.response.status_code == 400
    assert malformed.value.response.json()["errors"][0].startswith("'payload.severity' is invalid")

    assert incident_items(local_http) == []


def alertmanager_event(key: str, action: str, group_key: str) -> dict[str, Any]:
    """What Alertmanager's pagerduty_configs (routing_key, the default templates) posts: notify/pagerduty in the
    Alertmanager source; the dedup key is the SHA-256 of the group key, custom_details its default details."""
    return {
        "routing_key": key,
        "dedup_key": hashlib.sha256(group_key.encode()).hexdigest(),
        "event_action": action,
        "payload": {
            "summary": "[FIRING:1] PaymentsLatencyHigh (payments-api-1 critical)",
            "source": "Alertmanager",
            "severity": "error",
            "custom_details": {
                "firing": "Labels:\n - alertname = PaymentsLatencyHigh\n - severity = critical\n",
                "num_firing": "1" if action == "trigger" else "0",
                "num_resolved": "0" if action == "trigger" else "1",
                "resolved": "",
            },
        },
        "client": "Alertmanager",
        "client_url": "http://alertmanager.example.com:9093/#/alerts?receiver=pagerduty",
    }


def test_an_alertmanager_pagerduty_configs_body_opens_and_resolves(local_http):
    key = routing_key(local_http)
    group = '{}:{alertname="PaymentsLatencyHigh"}'

    status, reply = post(local_http, "pagerduty/v2/enqueue", alertmanager_event(key, "trigger", group), token=None)
    assert (status, reply["status"]) == (202, "success"), reply
    (incident,) = incidents(local_http)
    assert (incident["service"], incident["severity"]) == ("payments", "SEV2")  # error -> SEV2 by the map

    status, _ = post(local_http, "pagerduty/v2/enqueue", alertmanager_event(key, "resolve", group), token=None)
    assert status == 202
    (incident,) = incidents(local_http)
    assert incident["status"] == "resolved"


def test_a_pagerduty_trigger_pages_the_on_call_person(local_http_fast):
    client(local_http_fast, routing_key(local_http_fast)).trigger(
        "Card declines above 30%", "payments-api-1", dedup_key="declines-page", severity="critical"
    )
    first = on_call(0)[0]
    wait_for(lambda: messages_to(local_http_fast, first, "sms"))
    (sms, *_) = messages_to(local_http_fast, first, "sms")
    assert "Card declines above 30%" in sms["body"]


def test_a_real_alertmanagers_pagerduty_configs_opens_and_resolves(local_http):
    """Debian's prometheus-alertmanager itself, its pagerduty_configs pointed at Siren: only the URL changed."""
    try:
        ensure_alertmanager()
    except AlertmanagerSetupError as error:
        pytest.skip(f"Debian's prometheus-alertmanager could not be obtained: {error}")
    url = local_http.info()["webhook_url"].rstrip("/") + "/pagerduty/v2/enqueue"
    config = {
        "route": {"receiver": "pd", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "5s"},
        "receivers": [
            {
                "name": "pd",
                "pagerduty_configs": [
                    {"routing_key": routing_key(local_http), "url": url, "severity": "error", "send_resolved": True}
                ],
            }
        ],
    }
    now = datetime.now(UTC)
    alert = {"labels": {"alertname": "PaymentsLatencyHigh", "instance": "payments-api-1"}}
    with running_alertmanager(config) as alertmanager:
        alertmanager.post_alerts([{**alert, "startsAt": stamp(now), "endsAt": stamp(now + timedelta(minutes=5))}])
        wait_for(lambda: [i["status"] for i in incidents(local_http)] == ["open"])
        (incident,) = incidents(local_http)
        assert (incident["service"], incident["severity"]) == ("payments", "SEV2")
        assert incident["title"].startswith("[FIRING:1] PaymentsLatencyHigh")

        ended = datetime.now(UTC)
        alertmanager.post_alerts([{**alert, "startsAt": stamp(now), "endsAt": stamp(ended - timedelta(seconds=1))}])
        wait_for(lambda: [i["status"] for i in incidents(local_http)] == ["resolved"])


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
