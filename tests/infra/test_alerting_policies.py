"""The alarm and inbound-SMS topics, and their key, admit CloudWatch and End User Messaging only on this account's
behalf: a service principal without ``aws:SourceAccount`` publishes for anyone who names the topic (confused
deputy)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.components.alerting import AlertTopics

CLOUDWATCH = {"Service": "cloudwatch.amazonaws.com"}
SMS_VOICE = {"Service": "sms-voice.amazonaws.com"}
THIS_ACCOUNT = {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "Alerting")
    topics = AlertTopics(stack, "AlertTopics")
    rendered = Template.from_stack(stack).to_json()
    for name, topic in (("alarm_topic", topics.alarm_topic), ("inbound_topic", topics.inbound_sms_topic)):
        resource = topic.node.default_child
        assert isinstance(resource, cdk.CfnElement)
        rendered[name] = stack.get_logical_id(resource)
    return rendered


def topic_statements(template: dict[str, Any], topic: str) -> list[dict[str, Any]]:
    (policy,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic} in r["Properties"]["Topics"]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def service_statements(statements: list[dict[str, Any]], principal: dict[str, str]) -> list[dict[str, Any]]:
    return [s for s in statements if s.get("Principal") == principal]


def test_cloudwatch_publishes_to_the_alarm_topic_only_for_this_accounts_alarms(template):
    (publish,) = service_statements(topic_statements(template, template["alarm_topic"]), CLOUDWATCH)
    assert publish["Condition"]["StringEquals"] == THIS_ACCOUNT
    source_arn = publish["Condition"]["ArnLike"]["aws:SourceArn"]
    assert source_arn == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudwatch:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":alarm:*",
            ],
        ]
    }


def test_end_user_messaging_publishes_replies_only_for_this_account(template):
    (publish,) = service_statements(topic_statements(template, template["inbound_topic"]), SMS_VOICE)
    assert publish["Condition"] == {"StringEquals": THIS_ACCOUNT}


def test_every_service_principal_in_the_topic_and_key_policies_is_conditioned_on_this_account(template):
    (key,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    statements += topic_statements(template, template["alarm_topic"])
    statements += topic_statements(template, template["inbound_topic"])
    services = [s for s in statements if "Service" in s.get("Principal", {})]
    assert {json.dumps(s["Principal"]) for s in services} == {json.dumps(CLOUDWATCH), json.dumps(SMS_VOICE)}
    unconditioned = [s for s in services if s.get("Condition", {}).get("StringEquals") != THIS_ACCOUNT]
    assert not unconditioned, unconditioned
