"""Opsgenie's Alert API through the deployed stack, over HTTP, with the requests Opsgenie documents.

GIVEN the Siren stack deployed on the embedded local AWS (siren.yaml as shipped: the Opsgenie integration
``zabbix-checkout`` opens incidents on checkout), and its key derived from the stack's integration secret as
``siren integrations keys`` derives it, WHEN a sender posts Opsgenie's documented requests to
``<WebhookUrl>opsgenie/v2/...`` (and Alertmanager's ``opsgenie_configs`` bodies), THEN one incident opens, the same
alias joins it, acknowledge, notes and close change it, and a bad key or a malformed body is refused with nothing
written.

Why plain requests and not ``opsgenie-sdk``: the SDK's last release is 2.1.5 of August 2021 (an OpenAPI-generated
client, unmaintained since, for a product whose support ends in 2027), and it would add a dependency and its own
urllib3/tenacity stack to the test environment for what is, on the wire, the same JSON over HTTPS as the documented
requests below (https://docs.opsgenie.com/docs/alert-api): the requests are what is under contract.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from siren.domain.integration_keys import integration_key
from siren.domain.policy import OPSGENIE, Integration

pytestmark = pytest.mark.e2e
ALERTMANAGER_ALIAS = "3a5c7e9b1d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c"


def opsgenie_key(runtime: Any) -> str:
    """The key ``siren integrations keys`` prints for zabbix-checkout: derived from the deployed secret."""
    arn = runtime.stacks["Siren"].outputs["IntegrationSecretArn"]
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return integration_key(secret.encode(), OPSGENIE, Integration("zabbix-checkout", "checkout"))


def send(
    runtime: Any, path: str, body: Any = None, *, key: str | None, raw: bytes | None = None, method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    """One request as Opsgenie documents it: ``Authorization: GenieKey <key>``, a JSON body."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"GenieKey {key}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    url = runtime.info()["webhook_url"].rstrip("/") + "/opsgenie/" + path
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def table_items(runtime: Any) -> list[dict[str, Any]]:
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def incidents(runtime: Any) -> list[dict[str, Any]]:
    found = [item for item in table_items(runtime) if item["kind"] == "incident"]
    return sorted(found, key=lambda incident: incident["opened_at"])


def timeline(runtime: Any, incident_id: str) -> list[str]:
    return [i["detail"] for i in table_items(runtime) if i["kind"] == "timeline" and i["pk"] == f"INC#{incident_id}"]


def test_create_repeat_acknowledge_note_and_close_by_alias(local_http):
    key = opsgenie_key(local_http)
    alert = {
        "message": "Checkout p99 above 2 s",
        "alias": "checkout-latency",
        "description": "p99 2.4 s for 10 minutes",
        "priority": "P2",
        "tags": ["checkout"],
        "details": {"team": "payments"},
        "entity": "checkout-api",
        "source": "zabbix",
    }

    status, answer = send(local_http, "v2/alerts", alert, key=key)
    assert (status, answer["result"]) == (202, "Request will be processed")
    assert isinstance(answer["took"], float) and answer["requestId"]
    (incident,) = incidents(local_http)
    assert (incident["service"], incident["severity"], incident["status"]) == ("checkout", "SEV2", "open")

    assert send(local_http, "v2/alerts", alert, key=key)[0] == 202
    (incident,) = incidents(local_http)
    assert int(incident["alert_count"]) == 2

    by_alias = "identifierType=alias"
    status, _ = send(local_http, f"v2/alerts/checkout-latency/acknowledge?{by_alias}", {"user": "ana"}, key=key)
    assert status == 202
    (incident,) = incidents(local_http)
    assert (incident["status"], incident["acknowledged_by"]) == ("acknowledged", "ana")

    assert send(local_http, f"v2/alerts/checkout-latency/notes?{by_alias}", {"note": "rolled back"}, key=key)[0] == 202
    assert "rolled back" in timeline(local_http, incident["id"])

    status, _ = send(local_http, f"v2/alerts/checkout-latency/close?{by_alias}", {"note": "fixed"}, key=key)
    assert status == 202
    (incident,) = incidents(local_http)
    assert incident["status"] == "resolved"
    assert any("fixed" in detail for detail in timeline(local_http, incident["id"]))


def test_acknowledge_and_close_by_siren_incident_id(local_http):
    key = opsgenie_key(local_http)
    send(local_http, "v2/alerts", {"message": "Disk full on db-1"}, key=key)  # no alias: one of its own
    (incident,) = incidents(local_http)

    assert send(local_http, f"v2/alerts/{incident['id']}/acknowledge", {}, key=key)[0] == 202
    assert send(local_http, f"v2/alerts/{incident['id']}/close", {}, key=key)[0] == 202
    (incident,) = incidents(local_http)
    assert (incident["acknowledged_by"], incident["status"]) == ("opsgenie:zabbix-checkout", "resolved")
    assert send(local_http, "v2/alerts/INC-no-such/acknowledge", {}, key=key)[0] == 404


def test_bad_keys_and_malformed_bodies_are_refused_and_nothing_is_written(local_http):
    key = opsgenie_key(local_http)
    for bad in (None, "00000000-0000-4000-8000-000000000000", local_http.info()["webhook_token"]):
        status, answer = send(local_http, "v2/alerts", {"message": "m"}, key=bad)
        assert (status, answer["message"]) == (401, "Could not authenticate")

    status, answer = send(local_http, "v2/alerts", {"alias": "no-message"}, key=key)
    assert status == 422
    assert answer["message"] == "Request body is not processable. Please check the errors."
    assert answer["errors"] == {"message": "Message can not be empty."}
    status, answer = send(local_http, "v2/alerts", {"message": "m", "priority": "P0"}, key=key)
    assert (status, list(answer["errors"])) == (422, ["priority"])
    assert send(local_http, "v2/alerts", key=key, raw=b"{not json")[0] == 400

    assert incidents(local_http) == []


def test_alertmanagers_opsgenie_configs_bodies(local_http):
    """As Alertmanager's notifier sends them (notify/opsgenie): api_url <WebhookUrl>opsgenie/, the group key's hash
    as alias, the common labels as details; on resolve, a close by alias with only the source."""
    key = opsgenie_key(local_http)
    create = {
        "alias": ALERTMANAGER_ALIAS,
        "message": "[FIRING:1] CheckoutDown (checkout critical)",
        "description": "Alerts Firing:\nLabels:\n - alertname = CheckoutDown\n",
        "details": {"alertname": "CheckoutDown", "severity": "critical"},
        "source": "http://alertmanager:9093",
        "tags": ["checkout"],
        "priority": "P1",
    }
    assert send(local_http, "v2/alerts", create, key=key)[0] == 202
    assert send(local_http, "v2/alerts", create, key=key)[0] == 202
    (incident,) = incidents(local_http)
    assert (int(incident["alert_count"]), incident["severity"]) == (2, "SEV1")

    close = f"v2/alerts/{ALERTMANAGER_ALIAS}/close?identifierType=alias"
    assert send(local_http, close, {"source": create["source"]}, key=key)[0] == 202
    assert send(local_http, close, {"source": create["source"]}, key=key)[0] == 202  # a repeated resolve
    (incident,) = incidents(local_http)
    assert incident["status"] == "resolved"


def test_heartbeat_ping(local_http):
    key = opsgenie_key(local_http)
    for method in ("GET", "POST"):
        status, answer = send(local_http, "v2/heartbeats/search-reindex/ping", key=key, method=method)
        assert (status, answer["result"]) == (202, "PONG - Heartbeat received")
    assert send(local_http, "v2/heartbeats/no-such/ping", key=key)[0] == 404
