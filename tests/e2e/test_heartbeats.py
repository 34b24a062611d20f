"""Heartbeats end to end on the embedded local AWS over HTTP: the deployed every-minute check, the webhook's
``/heartbeat/<name>`` route and ``siren heartbeats``, as a job and an operator use them.

GIVEN the heartbeat shipped in siren.yaml (a nightly job: 24 hours and an hour of grace) whose job last pinged two
days ago, WHEN the deployed check schedule fires, THEN an incident opens on the heartbeat's service with its
severity and dedup key, and ``siren heartbeats list`` says it is down; WHEN the job pings again (through the CLI,
which POSTs to the webhook with the token), THEN the incident resolves (the service resolves on recovery) and
the heartbeat is up; the check firing again opens nothing new.

Local functions see the real clock (only waits are scaled), so the test moves the heartbeat's last ping into the
past instead of waiting a day: the store's own ping record, written as a ping two days ago would have been.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.config import load_config
from tests.support import wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "siren.yaml")
NAME = next(iter(CONFIG.heartbeats))
HEARTBEAT = CONFIG.heartbeats[NAME]


def siren(runtime: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": runtime.endpoint_url}
    return subprocess.run(
        [sys.executable, "-m", "siren_cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def listed(runtime: Any) -> dict[str, Any]:
    result = siren(runtime, "heartbeats", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def heartbeat_incidents(runtime: Any) -> list[dict[str, Any]]:
    """The incidents of the heartbeat's dedup key (a test may scan; request paths never do)."""
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    found = ({k: next(iter(v.values())) for k, v in item.items()} for item in items if item["kind"]["S"] == "incident")
    return [incident for incident in found if incident["dedup_key"] == HEARTBEAT.dedup_key]


def post_ping(runtime: Any, name: str, token: str | None) -> tuple[int, dict[str, Any]]:
    info = runtime.info()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(
        info["webhook_url"].rstrip("/") + f"/heartbeat/{name}", data=b"", headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fire_check(runtime: Any) -> None:
    """Fire the deployed every-minute check now (the ticker fires it too; every check is idempotent)."""
    names = [s["Name"] for s in runtime.client("scheduler").list_schedules()["Schedules"]]
    (check,) = [name for name in names if "HeartbeatCheck" in name]
    runtime.scheduler.fire(check)


def test_a_missed_heartbeat_opens_an_incident_and_the_next_ping_resolves_it(local_http, monkeypatch):
    from siren.adapters.dynamodb import DynamoHeartbeats

    monkeypatch.setenv("AWS_ENDPOINT_URL", local_http.endpoint_url)
    heartbeats = DynamoHeartbeats(local_http.stacks["Siren"].outputs["IncidentsTableName"])
    assert heartbeat_incidents(local_http) == []

    # GIVEN the job last pinged two days ago: past its interval and grace.
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    heartbeats.record_heartbeat_ping(NAME, two_days_ago)
    assert listed(local_http)[NAME]["status"] == "down"

    # WHEN the check runs: one incident, on the heartbeat's service, with its severity.
    fire_check(local_http)
    (incident,) = wait_for(lambda: heartbeat_incidents(local_http))
    assert (incident["status"], incident["service"], incident["severity"]) == (
        "open",
        HEARTBEAT.service,
        HEARTBEAT.severity,
    )
    assert NAME in incident["title"] and incident["severity_rule"] == "stated"
    row = listed(local_http)[NAME]
    assert row["status"] == "down" and row["last_ping_at"] == two_days_ago.isoformat(timespec="seconds")

    # Refused pings change nothing: a wrong token, an unknown name.
    assert post_ping(local_http, NAME, "not-the-token") == (401, {"error": "invalid token"})
    status, body = post_ping(local_http, "no-such-job", local_http.info()["webhook_token"])
    assert status == 404 and "unknown heartbeat 'no-such-job'" in body["error"]
    unknown = siren(local_http, "heartbeats", "ping", "no-such-job")
    assert unknown.returncode == 2 and "unknown heartbeat" in unknown.stderr
    assert [i["status"] for i in heartbeat_incidents(local_http)] == ["open"]

    # WHEN the job pings (as a cron job using the CLI would): the incident resolves, the heartbeat is up.
    pinged = siren(local_http, "heartbeats", "ping", NAME)
    assert pinged.returncode == 0 and f"Pinged {NAME}: up" in pinged.stdout, pinged.stderr
    (resolved,) = wait_for(lambda: [i for i in heartbeat_incidents(local_http) if i["status"] == "resolved"])
    assert resolved["id"] == incident["id"]
    row = listed(local_http)[NAME]
    assert row["status"] == "up" and row["last_ping_at"] > two_days_ago.isoformat()
    assert row["next_deadline"] > datetime.now(UTC).isoformat()

    # The check again: nothing new opens, the resolved incident stays resolved.
    fire_check(local_http)
    assert local_http.drain()
    assert [(i["id"], i["status"]) for i in heartbeat_incidents(local_http)] == [(incident["id"], "resolved")]
