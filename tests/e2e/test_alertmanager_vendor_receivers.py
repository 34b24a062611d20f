"""A real Prometheus Alertmanager (Debian's) sending to Siren through its *vendor* receivers, configured with the
README's own snippets: senders move from Opsgenie (and PagerDuty) to Siren by changing one URL and one key.

GIVEN the stack deployed locally over HTTP and Alertmanager configured with the receiver block the README shows
(its placeholders replaced by the webhook URL and the integration's key)
WHEN a group of alerts fires and then resolves
THEN one incident opens on the integration's service, and the resolve Alertmanager sends closes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from siren.domain.integration_keys import integration_key
from siren.domain.policy import OPSGENIE, PAGERDUTY
from tests.alertmanager_harness import AlertmanagerSetupError, ensure_alertmanager, running_alertmanager
from tests.conftest import running_runtime
from tests.e2e.test_alertmanager import alert, resolve, wait_for
from tests.e2e.test_escalation import CONFIG

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def readme_receiver(vendor_config: str) -> dict[str, Any]:
    """The README's Alertmanager snippet for ``vendor_config`` (e.g. ``opsgenie_configs``), as YAML."""
    readme = (ROOT / "README.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL):
        if f"{vendor_config}:" in block and "receivers:" in block:
            parsed: dict[str, Any] = yaml.safe_load(block)
            return parsed
    raise AssertionError(f"the README shows no Alertmanager receiver with {vendor_config}")


@pytest.fixture(scope="module")
def siren(siren_assembly: Path) -> Iterator[Any]:
    yield from running_runtime("http", 60, siren_assembly)


def key_of(runtime: Any, api: str, index: int = 0) -> str:
    arn = runtime.stacks["Siren"].outputs["IntegrationSecretArn"]
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"].encode()
    return integration_key(secret, api, CONFIG.integrations.of(api)[index])


def route_to(receiver: dict[str, Any]) -> dict[str, Any]:
    return {
        "receiver": receiver["name"],
        "group_by": ["alertname"],
        "group_wait": "1s",
        "group_interval": "5s",
        "repeat_interval": "4h",
    }


def incidents_of(siren: Any, prefix: str) -> list[dict[str, str]]:
    """The incidents whose dedup key starts with ``prefix`` (one integration's): their service and status."""
    table = siren.stacks["Siren"].outputs["IncidentsTableName"]
    items = siren.client("dynamodb").scan(
        TableName=table,
        FilterExpression="kind = :incident AND begins_with(dedup_key, :prefix)",
        ExpressionAttributeValues={":incident": {"S": "incident"}, ":prefix": {"S": prefix}},
        ProjectionExpression="service, severity, #status",
        ExpressionAttributeNames={"#status": "status"},
    )["Items"]
    return [{name: next(iter(value.values())) for name, value in item.items()} for item in items]


def fire_and_resolve(siren: Any, config: dict[str, Any], alertname: str, prefix: str) -> dict[str, str]:
    """Alertmanager with ``config``: a group of two alerts fires (THEN one incident), then resolves (THEN it is
    resolved). Returns the incident as it was while open."""
    try:
        ensure_alertmanager()
    except AlertmanagerSetupError as error:
        pytest.skip(f"Debian's prometheus-alertmanager could not be obtained: {error}")
    with running_alertmanager(config) as alertmanager:
        group = [alert(alertname, n, datetime.now(UTC)) for n in (1, 2)]
        alertmanager.post_alerts(group)
        wait_for(f"one {prefix}* incident", lambda: len(incidents_of(siren, prefix)) == 1, alertmanager)
        (opened,) = incidents_of(siren, prefix)
        resolve(alertmanager, group)
        resolved = ["resolved"]
        wait_for("its resolve", lambda: [i["status"] for i in incidents_of(siren, prefix)] == resolved, alertmanager)
    return opened


def test_alertmanager_with_the_readmes_opsgenie_receiver_opens_and_closes_one_incident(siren):
    # GIVEN the README's opsgenie_configs receiver, its placeholders filled in
    config = readme_receiver("opsgenie_configs")
    (receiver,) = config["receivers"]
    (opsgenie,) = receiver["opsgenie_configs"]
    assert "<webhook-function-url>" in opsgenie["api_url"] and "siren integrations keys" in opsgenie["api_key"]
    opsgenie["api_url"] = siren.info()["webhook_url"].rstrip("/") + "/opsgenie/"
    opsgenie["api_key"] = key_of(siren, OPSGENIE)
    config["route"] = route_to(receiver)
    integration = CONFIG.integrations.opsgenie[0]
    # WHEN a group fires and resolves THEN one incident opens on the integration's service, and closes
    opened = fire_and_resolve(siren, config, "BackupFailed", f"opsgenie:{integration.name}:")
    assert opened["service"] == integration.service


def test_alertmanager_with_the_readmes_pagerduty_receiver_opens_and_resolves_one_incident(siren):
    # GIVEN the README's pagerduty_configs receiver, its placeholders filled in
    config = readme_receiver("pagerduty_configs")
    (receiver,) = config["receivers"]
    (pagerduty,) = receiver["pagerduty_configs"]
    assert pagerduty["url"] == "<WebhookUrl>pagerduty/v2/enqueue" and "<" in pagerduty["routing_key"]
    pagerduty["url"] = siren.info()["webhook_url"].rstrip("/") + "/pagerduty/v2/enqueue"
    pagerduty["routing_key"] = key_of(siren, PAGERDUTY)
    config["route"] = route_to(receiver)
    integration = CONFIG.integrations.pagerduty[0]
    # WHEN a group fires and resolves THEN one incident opens, at the severity the snippet's `error` maps to
    opened = fire_and_resolve(siren, config, "CardDeclines", f"pagerduty:{integration.name}:")
    assert (opened["service"], opened["severity"]) == (
        integration.service,
        CONFIG.integrations.pagerduty_severities[pagerduty["severity"]],
    )
