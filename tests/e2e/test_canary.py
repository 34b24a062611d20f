"""Siren's end-to-end canary on the embedded local AWS (time scale 60: it runs every 5 seconds).

GIVEN Siren deployed locally with the shipped operations settings (heartbeat every 5 minutes)
WHEN the canary schedule fires
THEN its alert goes through the webhook, becomes a canary incident whose first step checks the on-call people's
SMS with a dry run (nothing is sent), the heartbeat is recorded, and the incident resolves itself; it never
reaches the status page or the incident list. WHEN the path breaks, THEN the CanaryMissing alarm tells operations.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_escalation import CONFIG, on_call, phone
from tests.e2e.test_ingest_paths import incidents
from tests.e2e.test_ops_alarms import notified, state_of
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def canary_heartbeat(runtime: Any) -> dict[str, Any] | None:
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    item = (
        runtime.client("dynamodb")
        .get_item(TableName=table, Key={"pk": {"S": "CANARY"}, "sk": {"S": "HEARTBEAT"}}, ConsistentRead=True)
        .get("Item")
    )
    return item


def test_the_canary_runs_end_to_end_without_paging_anyone(local_http_canary):
    runtime = local_http_canary
    beat = wait_for(lambda: canary_heartbeat(runtime), timeout=90)
    assert float(beat["seconds"]["N"]) > 0

    canaries = wait_for(lambda: [i for i in incidents(runtime) if i.get("canary")], timeout=30)
    assert all(incident["source"] == "canary" for incident in canaries)
    wait_for(lambda: all(i["status"] == "resolved" for i in incidents(runtime) if i.get("canary")), timeout=60)
    # Checked, not sent: End User Messaging saw dry runs; nobody got an SMS, a call, an email or a chat post.
    assert runtime.sms_voice.dry_runs >= 1
    # (The scheduled leadership report may go out meanwhile, on a Monday morning: it is mail, not a page.)
    leadership = set(CONFIG.reports.recipients)
    assert [m for m in runtime.outbox.messages() if m.via != "sns-topic" and m.to not in leadership] == []
    # Not public, not listed.
    from tests.e2e.test_cli_incidents import siren

    listed = json.loads(siren(runtime, "incidents", "list", "--json").stdout)
    assert [i for i in listed if i["canary"]] == []
    bucket = runtime.stacks["Siren"].outputs["StatusBucketName"]
    keys = [o["Key"] for o in runtime.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert not [key for key in keys if key.startswith("incidents/INC-")]
    assert state_of(runtime, "CanaryMissing") == "OK"


def test_siren_health_is_healthy_with_the_canary_and_the_watchdog_and_says_why_not(local_http_canary, siren_assembly):
    from siren_local.deploy import assembly_region
    from tests.e2e.test_cli_incidents import siren

    runtime = local_http_canary
    runtime.deploy(siren_assembly, "SirenWatchdog", region=assembly_region(siren_assembly, "SirenWatchdog"))
    queue = runtime.stacks["Siren"].outputs["DeadLetterQueueUrl"]
    wait_for(lambda: canary_heartbeat(runtime), timeout=90)

    healthy = siren(runtime, "health", "--json")
    verdict = json.loads(healthy.stdout)
    assert verdict["healthy"] is True and verdict["watchdog"] == "ok" and verdict["dead_letters"] == 0
    assert verdict["heartbeat_age_seconds"] < 600
    assert {alarm["name"] for alarm in verdict["alarms"]} >= {"Siren-CanaryMissing", "Siren-EscalationRepairs"}

    runtime.client("sqs").send_message(QueueUrl=queue, MessageBody="{}")
    unhealthy = siren(runtime, "health", "--json", check=False)
    assert unhealthy.returncode == 1
    assert json.loads(unhealthy.stdout)["dead_letters"] == 1
    runtime.client("sqs").purge_queue(QueueUrl=queue)  # as the next test (same runtime) expects it


def test_a_broken_canary_path_alarms_the_operators(local_http_canary):
    runtime = local_http_canary
    wait_for(lambda: canary_heartbeat(runtime), timeout=90)
    wait_for(lambda: state_of(runtime, "CanaryMissing") == "OK", timeout=60)

    def alarm_texts() -> int:  # ops SMS saying the canary is missing (a slow first canary may have sent one before)
        subject = 'ALARM: "Siren-CanaryMissing" in US East (N. Virginia)'
        return sum(
            1 for m in runtime.outbox.messages() if m.via == "sns-topic" and m.channel == "sms" and m.body == subject
        )

    earlier = alarm_texts()
    # End User Messaging refuses the first level's numbers: the dry run fails, no heartbeat is recorded.
    runtime.sms_voice.fail_destinations = {phone(user) for user in on_call(0)}

    wait_for(lambda: alarm_texts() > earlier, timeout=120)
    assert notified(runtime, "CanaryMissing")  # by SMS and email
    assert state_of(runtime, "CanaryMissing") == "ALARM"
