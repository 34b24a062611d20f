"""The Slack app's function in the synthesized template: public (Slack signs its requests, it cannot sign SigV4),
capped, and allowed only what siren.app.slack_app does.

The local e2e tier enforces IAM actions and resources but not ``dynamodb:LeadingKeys``: the item families are
checked here, as tests/infra/test_scoped_iam.py does for the other functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.components.functions import ReservedConcurrency
from infra.components.store import ItemFamily
from tests.infra.test_scoped_iam import function_statements, grants, listed, reservation, resources

PREFIX = "SlackAppFunction"


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "Siren.template.json").read_text())


def slack_function(template: dict[str, Any]) -> str:
    (name,) = [n for n in resources(template, "AWS::Lambda::Function") if n.startswith(PREFIX)]
    return name


def test_the_url_is_public_and_capped_like_the_ack_links(template):
    function = slack_function(template)
    (url,) = [u for u in resources(template, "AWS::Lambda::Url").values() if function in json.dumps(u["Properties"])]
    assert url["Properties"]["AuthType"] == "NONE"
    assert reservation(template, function) == ReservedConcurrency.PUBLIC_ACK_LINK
    assert {"SlackUrl", "SlackSigningSecretArn", "SlackBotTokenSecretArn"} <= set(template["Outputs"])


def test_it_uses_a_request_once_changes_incidents_and_lists_open_ones_nothing_more(template):
    on_items, indexes = grants(template, PREFIX)
    families = {
        ItemFamily.INCIDENT,
        ItemFamily.DEDUP_KEY,
        ItemFamily.EVENT,
        ItemFamily.LINK_NONCE,
        ItemFamily.RAW_ALERT,
    }
    assert on_items == {
        frozenset({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}): {f.value for f in families}
    }
    assert indexes == {"by-status"}


def test_it_reads_the_signing_secret_only_and_ends_waits_of_the_escalation_machine_only(template):
    statements = function_statements(template, PREFIX)
    secrets = [s for s in statements if any(a.startswith("secretsmanager:") for a in listed(s["Action"]))]
    (signing,) = [n for n in resources(template, "AWS::SecretsManager::Secret") if n.startswith("SlackSigningSecret")]
    assert secrets and all(s["Resource"] == {"Ref": signing} for s in secrets)  # not the bot token
    states = [s for s in statements if any(a.startswith("states:") for a in listed(s["Action"]))]
    assert [sorted(listed(s["Action"])) for s in states] == [["states:SendTaskSuccess", "states:StartExecution"]]
    assert "stateMachine:" in json.dumps(states[0]["Resource"]) and "-escalation" in json.dumps(states[0]["Resource"])


NOTIFY_PREFIX = "SlackNotifyFunction"


def test_the_notifier_reads_the_incident_writes_only_its_message_record_and_reads_only_the_bot_token(template):
    on_items, indexes = grants(template, NOTIFY_PREFIX)
    assert on_items == {
        frozenset({"dynamodb:GetItem", "dynamodb:Query"}): {ItemFamily.INCIDENT.value},
        frozenset({"dynamodb:GetItem", "dynamodb:PutItem"}): {ItemFamily.SLACK_MESSAGE.value},
    }
    assert indexes == set()
    statements = function_statements(template, NOTIFY_PREFIX)
    secrets = [s for s in statements if any(a.startswith("secretsmanager:") for a in listed(s["Action"]))]
    (token,) = [n for n in resources(template, "AWS::SecretsManager::Secret") if n.startswith("SlackBotToken")]
    assert secrets and all(s["Resource"] == {"Ref": token} for s in secrets)  # not the signing secret
    assert not [s for s in statements if any(a.startswith(("states:", "sns:", "ses:")) for a in listed(s["Action"]))]


def test_the_notifier_is_on_a_rule_of_its_own_off_the_paging_path_with_retries_and_a_dead_letter_queue(template):
    (function,) = [n for n in resources(template, "AWS::Lambda::Function") if n.startswith(NOTIFY_PREFIX)]
    properties = template["Resources"][function]["Properties"]
    assert "SLACK_API_URL" not in properties["Environment"]["Variables"]  # slack-sdk's https://slack.com/api/
    assert properties["DeadLetterConfig"]["TargetArn"]
    rules = [
        rule["Properties"]
        for rule in resources(template, "AWS::Events::Rule").values()
        if any(function in json.dumps(target["Arn"]) for target in rule["Properties"].get("Targets", []))
    ]
    (rule,) = rules
    assert rule["EventPattern"] == {"source": ["siren.incidents"]}  # no detail-type: not a paging-path rule
    (target,) = rule["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 3 and target["DeadLetterConfig"]["Arn"]
    assert [t for t in rule["Targets"] if function not in json.dumps(t["Arn"])] == []  # nothing shares it
    assert reservation(template, function) is None  # shares the unreserved pool, as the status publisher does
