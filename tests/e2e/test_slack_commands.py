"""Escalate now, declare and update from Slack, on the embedded local AWS over HTTP (IAM enforced), signed as Slack
signs (siren_cli.slack_signing) with the secret the stack holds, POSTed to the deployed SlackUrl.

GIVEN the deployed stack at time scale 3 (SEV2's critical policy: level 1 texts at once and calls two scaled
minutes later, 40 s; the level lasts 100 s), the shipped siren.yaml (alice is Slack member U07ALICE01),
WHEN alice sends ``/siren declare "..." --sev 2 --service search``, THEN a SEV2 incident opens and level 1 is texted;
WHEN she clicks Escalate (twice, a double click) before level 1's wait is over, THEN level 2 is texted once, the
execution's history shows AwaitAck ended by ``escalate_now`` and the Step after it, with no wait timed out before,
and level 1's call is skipped; ``/siren update`` puts a public update on the incident; and ``siren local
slack-command`` / ``slack-click`` (as a user runs them) answer ``/siren oncall``, declare, and acknowledge (after
``siren escalate`` escalated from the CLI), and a later Escalate click says the incident was acknowledged.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import running_runtime
from tests.e2e.test_cli_incidents import siren as siren_against
from tests.e2e.test_escalation import messages_to, on_call
from tests.e2e.test_slack import slack_of
from tests.support import wait_for

pytestmark = pytest.mark.e2e
ALICE = "U07ALICE01"


@pytest.fixture
def local_http_slow(siren_assembly: Path) -> Iterator[Any]:
    """Time scale 3: a level's wait outlasts the test's clicks by far, so "before the timeout" is not a race."""
    yield from running_runtime("http", 3, siren_assembly)


def history(runtime: Any) -> list[dict[str, Any]]:
    machine = runtime.stacks["Siren"].outputs["EscalationStateMachineArn"]
    sfn = runtime.client("stepfunctions")
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    return list(sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"])


def escalated_early(events: list[dict[str, Any]]) -> list[str]:
    """What followed the wait that ``escalate_now`` ended: the states entered after it, in order (empty: none did)."""
    for index, event in enumerate(events):
        output = (event.get("taskSucceededEventDetails") or {}).get("output") or ""
        if event["type"] == "TaskSucceeded" and "escalate_now" in output:
            later = events[index + 1 :]
            return [e["stateEnteredEventDetails"]["name"] for e in later if "stateEnteredEventDetails" in e]
    return []


def holds_a_wait(runtime: Any, incident_id: str) -> bool:
    """The escalation's run holds its wait at a level (what escalate now leaves): the store's record of it."""
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    key = {"pk": {"S": f"INC#{incident_id}"}, "sk": {"S": "ESC#TOKEN"}}
    item = runtime.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") or {}
    return "token" in item and "waiting" in item


def sms_count(runtime: Any, users: list[str]) -> dict[str, int]:
    return {user: len(messages_to(runtime, user, "sms")) for user in users}


def siren(*args: str) -> subprocess.CompletedProcess[str]:
    """``siren`` as its own process; its output with rich's line wrapping undone (the terminal's width varies)."""
    done = subprocess.run(
        [sys.executable, "-m", "siren_cli.main", *args], capture_output=True, text=True, timeout=120, check=False
    )
    return subprocess.CompletedProcess(done.args, done.returncode, " ".join(done.stdout.split()), done.stderr)


def test_declare_escalate_now_and_update_from_slack(local_http_slow):
    runtime = local_http_slow
    slack = slack_of(runtime)
    level_one, level_two = on_call(0, "SEV2"), on_call(1, "SEV2")
    newly_paged = [user for user in level_two if user not in level_one]
    assert newly_paged, "the shipped schedules put someone else on level 2"

    # /siren declare: a SEV2 opens as alice and its escalation texts level 1.
    status, answer = slack.command('/siren declare "Search is slow" --sev 2 --service search', ALICE)
    assert status == 200 and answer["response_type"] == "in_channel", answer
    incident_id = re.search(r"(INC-\S+)", answer["text"]).group(1)  # type: ignore[union-attr]
    for user in level_one:
        wait_for(lambda user=user: messages_to(runtime, user, "sms"))
    wait_for(lambda: holds_a_wait(runtime, incident_id))  # a click before it is told to try again in a moment
    before = sms_count(runtime, newly_paged)

    # Escalate, clicked twice (a double click), long before level 1's wait runs out.
    first = slack.click("escalate", incident_id, ALICE)
    second = slack.click("escalate", incident_id, ALICE)
    assert first[0] == 200 and f"{incident_id} escalated by Alice Martin" in first[1]["text"], first
    assert second[0] == 200 and second[1]["text"].startswith("Nothing more was changed"), second

    # Level 2 is texted now, once; the wait ended early by the request and the next Step ran after it.
    for user in newly_paged:
        wait_for(lambda user=user: sms_count(runtime, [user])[user] > before[user])
    after_wait = wait_for(lambda: escalated_early(history(runtime)))
    assert after_wait[:2] == ["AfterWait", "Step"], after_wait
    events = history(runtime)
    assert not [e for e in events if e["type"] in ("TaskTimedOut", "ExecutionTimedOut")]
    assert all(count == before[user] + 1 for user, count in sms_count(runtime, newly_paged).items())

    # /siren update: a public update on the incident, in the public status it had (investigating).
    status, answer = slack.command(f"/siren update {incident_id} We are looking into slow searches.", ALICE)
    assert status == 200 and "(investigating)" in answer["text"], answer
    timeline = json.loads(siren_against(runtime, "incidents", "show", incident_id, "--json").stdout)["timeline"]
    kinds = [entry["kind"] for entry in timeline]
    assert kinds.count("escalation_requested") == 1 and "update_posted" in kinds
    (escalated,) = [entry for entry in timeline if entry["kind"] == "escalated"]
    assert escalated["data"]["requested_by"] == "alice" and escalated["data"]["level"] == 2
    # Level 1's call, due two (scaled) minutes after its text, was skipped (a role's page calls at once: not level 1's)
    calls = [e["data"] for e in timeline if e["kind"] == "paged" and e["data"].get("channel") == "voice"]
    assert [call["user"] for call in calls if call["user"] in level_one and not call.get("role")] == []


def test_the_local_cli_sends_signed_commands_and_clicks(local_http):
    port = str(local_http.port)
    oncall = siren("local", "slack-command", "/siren oncall", "--as", ALICE, "--port", port)
    assert oncall.returncode == 0, oncall.stdout + oncall.stderr
    assert "On call now:" in oncall.stdout and "primary:" in oncall.stdout

    declared = siren(
        "local", "slack-command", '/siren declare "Checkout down" --sev 3 --service checkout', "--as", ALICE,
        "--port", port, "--json",
    )  # fmt: skip
    assert declared.returncode == 0, declared.stdout + declared.stderr
    incident_id = re.search(r"(INC-\S+)", json.loads(declared.stdout)["answer"]["text"]).group(1)  # type: ignore[union-attr]

    # The CLI's own escalate now, as an operator runs it (the level it leaves depends on how far the run got).
    wait_for(lambda: holds_a_wait(local_http, incident_id))
    escalated = siren_against(local_http, "escalate", incident_id)
    said = " ".join(escalated.stdout.split())
    assert escalated.returncode == 0 and f"{incident_id}: the level after level" in said, said

    clicked = siren("local", "slack-click", incident_id, "acknowledge", "--as", ALICE, "--port", port)
    assert clicked.returncode == 0 and f"{incident_id} acknowledged by Alice Martin" in clicked.stdout, clicked.stdout

    refused = siren("local", "slack-click", incident_id, "escalate", "--as", ALICE, "--port", port)
    assert refused.returncode == 0 and "acknowledged by alice" in refused.stdout, refused.stdout
    wrong = siren("local", "slack-click", incident_id, "explode", "--as", ALICE, "--port", port)
    assert wrong.returncode == 2 and "acknowledge, resolve, escalate" in wrong.stdout + wrong.stderr
