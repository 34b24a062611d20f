"""``siren declare``, ``incidents list/show``, ``severity``, ``resolve``: separate processes against the local
runtime, as an operator uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siren.config import load_config

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def siren(runtime, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": runtime.endpoint_url, "SIREN_ACTOR": "alice"}
    result = subprocess.run(
        [sys.executable, "-m", "siren_cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_declare_list_show_change_severity_and_resolve(local_http):
    declared = json.loads(
        siren(
            local_http,
            "declare",
            "--title",
            "Checkout <b>down</b>",
            "--severity",
            "sev2",
            "--service",
            "checkout",
            "--summary",
            "all regions",
            "--json",
        ).stdout
    )
    incident_id = declared["id"]

    listed = json.loads(siren(local_http, "incidents", "list", "--json").stdout)
    (row,) = listed
    assert {"id", "status", "severity", "title", "service", "dedup_key", "alert_count", "opened_at"} <= set(row)
    assert (row["id"], row["status"], row["severity"], row["title"]) == (
        incident_id,
        "open",
        "SEV2",
        "Checkout <b>down</b>",
    )

    siren(local_http, "severity", incident_id, "SEV1")
    siren(local_http, "resolve", incident_id, "--note", "rolled back")
    shown = json.loads(siren(local_http, "incidents", "show", incident_id, "--json").stdout)
    assert (shown["status"], shown["severity"], shown["resolved_by"]) == ("resolved", "SEV1", "alice")
    paging = {"paged", "page_failed", "escalated", "escalation_failed", "escalation_ended"}
    kinds = [entry["kind"] for entry in shown["timeline"] if entry["kind"] not in paging]
    assert kinds == ["opened", "severity_changed", "severity_changed", "resolved"]
    assert all({"at", "kind", "actor", "detail"} <= set(entry) for entry in shown["timeline"])
    (resolved_entry,) = [entry for entry in shown["timeline"] if entry["kind"] == "resolved"]
    assert resolved_entry["actor"] == "alice" and resolved_entry["detail"].endswith("rolled back")

    assert json.loads(siren(local_http, "incidents", "list", "--json").stdout) == []
    resolved = json.loads(siren(local_http, "incidents", "list", "--status", "resolved", "--json").stdout)
    assert [r["id"] for r in resolved] == [incident_id]


def test_ack_stops_the_escalation_and_assign_records_the_role(local_http):
    declared = json.loads(
        siren(
            local_http, "declare", "--title", "Search is slow", "--severity", "SEV3", "--service", "search", "--json"
        ).stdout
    )
    incident_id = declared["id"]
    sfn = local_http.client("stepfunctions")
    machine = local_http.stacks["Siren"].outputs["EscalationStateMachineArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not sfn.list_executions(stateMachineArn=machine)["executions"]:
        time.sleep(0.1)
    siren(local_http, "ack", incident_id)
    user = next(iter(load_config(ROOT / "siren.yaml").users))
    siren(local_http, "assign", incident_id, "--role", "commander", "--user", user)
    while time.monotonic() < deadline and any(
        e["status"] == "RUNNING" for e in sfn.list_executions(stateMachineArn=machine)["executions"]
    ):
        time.sleep(0.1)
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert execution["status"] == "SUCCEEDED"
    shown = json.loads(siren(local_http, "incidents", "show", incident_id, "--json").stdout)
    assert (shown["status"], shown["acknowledged_by"], shown["roles"]) == ("acknowledged", "alice", {"commander": user})
    assert [e["actor"] for e in shown["timeline"] if e["kind"] in ("acknowledged", "role_assigned")] == ["alice"] * 2

    bad = siren(local_http, "assign", incident_id, "--role", "janitor", "--user", user, check=False)
    assert bad.returncode == 2 and "role must be one of commander, comms, sme" in bad.stderr


def test_integrations_keys_are_derived_from_the_deployed_secret(local_http):
    # GIVEN the deployed stack's integration secret (generated at deploy) and siren.yaml's integrations
    from siren.domain.integration_keys import integration_key
    from siren.domain.policy import OPSGENIE, PAGERDUTY

    config = load_config(ROOT / "siren.yaml")
    arn = local_http.stacks["Siren"].outputs["IntegrationSecretArn"]
    secret = local_http.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"].encode()
    # WHEN an operator lists the keys
    listed = json.loads(siren(local_http, "integrations", "keys", "--json").stdout)
    # THEN each integration's key is the one derived from that secret, in its vendor's shape
    expected = [
        {"api": api, "name": i.name, "service": i.service, "key": integration_key(secret, api, i)}
        for api in (PAGERDUTY, OPSGENIE)
        for i in config.integrations.of(api)
    ]
    assert listed == expected and len(listed) == 2
    table = siren(local_http, "integrations", "keys").stdout
    assert all(entry["key"] in table for entry in expected)
