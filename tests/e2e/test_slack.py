"""The Slack app on the embedded local AWS over HTTP: requests signed as Slack signs them, with the signing secret the
stack holds in Secrets Manager, POSTed to the deployed SlackUrl function URL.

GIVEN the deployed stack and the shipped siren.yaml (alice is Slack member U07ALICE01),
WHEN ``/siren oncall`` is sent, THEN it answers who is on call;
WHEN a SEV1 alarm fires and its escalation runs, THEN a click on Acknowledge by a member mapped to nobody changes
nothing, alice's click acknowledges the incident as alice via slack and the escalation ends (its run SUCCEEDED),
and the same signed click sent again is refused (401) as a replay.
GIVEN the Slack app installed (its bot token in the stack's secret: the local Slack Web API fake accepts it),
WHEN a SEV1 opens, THEN one incident message is posted to the shipped channel with its three buttons; WHEN alice
clicks its Acknowledge, THEN the message is updated in place to say so, and the change is replied in its thread.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from siren_cli.slack_signing import SignedSlack, click_form, command_form
from siren_local.alarms import fire_alarm
from tests.e2e.test_escalation import incident_of
from tests.support import wait_for

pytestmark = pytest.mark.e2e
ALICE = "U07ALICE01"
STRANGER = "U0NOTMAPPED"
CHANNEL = "C0INCIDENTS"  # the shipped siren.yaml's slack.channel


def slack_of(runtime: Any) -> SignedSlack:
    """Sends what Slack sends (siren_cli.slack_signing, as `siren local slack-click` does), signed with the app's
    signing secret from the stack's Secrets Manager."""
    outputs = runtime.stacks["Siren"].outputs
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=outputs["SlackSigningSecretArn"])
    return SignedSlack(outputs["SlackUrl"], secret["SecretString"])


def executions(runtime: Any) -> list[dict[str, Any]]:
    machine = runtime.stacks["Siren"].outputs["EscalationStateMachineArn"]
    return list(runtime.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"])


def test_oncall_answers_and_an_acknowledge_click_acknowledges_as_the_mapped_user_and_ends_the_escalation(local_http):
    slack = slack_of(local_http)

    status, body = slack.command("/siren oncall", STRANGER)  # reading is open to the whole workspace
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["text"].startswith("On call now:") and "primary:" in body["text"]

    fire_alarm(local_http.client, "payments-card-declines", "ALARM", "declines 30% > 5%", None)  # SEV1
    running = wait_for(lambda: [e for e in executions(local_http) if e["status"] == "RUNNING"])
    incident_id = incident_of(local_http)["id"]

    # A member mapped to no Siren user: told why, nothing changes, the escalation goes on.
    status, body = slack.click("acknowledge", incident_id, STRANGER)
    assert status == 200 and body["text"].startswith("Nothing was changed")
    assert incident_of(local_http)["status"] == "open"
    assert [e["status"] for e in executions(local_http)] == ["RUNNING"]

    click = slack.signed(click_form("acknowledge", incident_id, ALICE))
    status, body = slack.send(*click)
    assert status == 200 and body["response_type"] == "in_channel"
    assert f"{incident_id} acknowledged by Alice Martin" in body["text"]
    incident = incident_of(local_http)
    assert incident["status"] == "acknowledged" and incident["acknowledged_by"] == "alice"
    # The acknowledgement ended the escalation's wait: its run finished, it was not stopped or failed.
    ended = wait_for(lambda: [e for e in executions(local_http) if e["status"] != "RUNNING"])
    assert [(e["executionArn"], e["status"]) for e in ended] == [(running[0]["executionArn"], "SUCCEEDED")]

    # The same signed click again, inside Slack's five minutes: a replay, refused before anything is read.
    status, body = slack.send(*click)
    assert status == 401 and body == {"error": "not a verified request from Slack"}


def test_a_request_not_signed_with_the_apps_secret_is_refused(local_http):
    slack = slack_of(local_http)
    body, headers = slack.signed(command_form("/siren status", ALICE))
    forged = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
    assert slack.send(body, forged)[0] == 401
    assert slack.send(body, headers)[0] == 200


def incident_messages(runtime: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = runtime.slack_api.messages(CHANNEL)
    return found


def test_a_sev1_posts_one_message_whose_acknowledge_button_acknowledges_and_the_message_then_says_so(local_http):
    local_http.connect_slack()
    slack = slack_of(local_http)

    fire_alarm(local_http.client, "payments-card-declines", "ALARM", "declines 30% > 5%", None)  # SEV1
    (posted,) = wait_for(lambda: incident_messages(local_http))
    incident_id = incident_of(local_http)["id"]
    (actions,) = [block for block in posted["blocks"] if block["type"] == "actions"]
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        ("acknowledge", incident_id),
        ("resolve", incident_id),
        ("escalate", incident_id),
    ]
    assert posted["text"].startswith(f"SEV1 {incident_id} open")

    # The button's click, as Slack sends it: alice is mapped, so the incident is acknowledged as her.
    status, body = slack.click("acknowledge", incident_id, ALICE)
    assert status == 200 and f"{incident_id} acknowledged by Alice Martin" in body["text"]

    def acknowledged_message() -> dict[str, Any]:
        now = local_http.slack_api.message(CHANNEL, posted["ts"])
        return now if now is not None and "Acknowledged by *Alice Martin*" in json.dumps(now["blocks"]) else {}

    shown = wait_for(acknowledged_message)
    assert shown["edited"] >= 1 and shown["text"].startswith(f"SEV1 {incident_id} acknowledged")
    assert '"action_id": "acknowledge"' not in json.dumps(shown["blocks"])  # resolve and escalate remain
    # The change, replied in the message's thread (after the replies of what came before it: the escalation).
    wait_for(
        lambda: [
            reply
            for reply in local_http.slack_api.messages(CHANNEL, replies_to=posted["ts"])
            if "acknowledged* by Alice Martin" in reply["text"]
        ]
    )
    assert len(incident_messages(local_http)) == 1  # updated in place, never posted again
    calls = [m for m in local_http.outbox_json() if m["channel"] == "slack"]
    assert {m["method"] for m in calls} >= {"chat.postMessage", "chat.update"}
