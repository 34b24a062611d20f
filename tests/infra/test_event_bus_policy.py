"""The Siren bus admits lifecycle events from the stream relay only: within one account an identity policy alone
lets a principal put events, so anyone with ``events:PutEvents`` on ``*`` could forge "Incident Acknowledged"
and end an escalation. The bus's resource policy denies every other principal, except for the operator's
"Status Page Changed" (``siren status ...``) and roles tagged as Siren operators (``siren dlq redrive``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.components.events import OPERATOR_DETAIL_TYPES, OPERATOR_TAG


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "Siren.template.json").read_text())


@pytest.fixture(scope="module")
def bus(template: dict[str, Any]) -> dict[str, Any]:
    (found,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::EventBus"]
    return found


def statement(bus: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in bus["Properties"]["Policy"]["Statement"] if s["Sid"] == sid]
    return found


def publisher_role(template: dict[str, Any]) -> dict[str, Any]:
    (role,) = [
        name
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and name.startswith("IngestPublisherRole")
    ]
    return {"Fn::GetAtt": [role, "Arn"]}


def test_the_bus_has_a_resource_policy_on_itself(template, bus):
    # GIVEN the synthesized stack THEN the policy is the bus's own property (no EventBusPolicy resources, whose
    # account-wide StatementIds collide between two Siren stacks and which race each other on one deploy)
    assert bus["Properties"]["Policy"]["Statement"]
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::EventBusPolicy"]


def test_only_the_stream_relay_may_put_lifecycle_events(template, bus):
    publisher = publisher_role(template)
    deny = statement(bus, "NobodyElsePutsLifecycleEvents")
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Action"] == "events:PutEvents"
    # everyone but the relay's role and tagged operator roles, for any event but a status page change
    assert deny["Condition"]["StringNotEquals"] == {
        "aws:PrincipalArn": publisher,
        f"aws:PrincipalTag/{OPERATOR_TAG}": "true",
    }
    assert deny["Condition"]["ForAnyValue:StringNotEquals"] == {"events:detail-type": list(OPERATOR_DETAIL_TYPES)}
    allow = statement(bus, "SirenPublisherPutsLifecycleEvents")
    assert allow["Effect"] == "Allow" and allow["Principal"] == {"AWS": publisher}


def test_the_account_may_put_only_status_page_changes(bus):
    allow = statement(bus, "OperatorsPutStatusPageChanges")
    assert allow["Effect"] == "Allow"
    assert allow["Condition"] == {
        "ForAllValues:StringEquals": {
            "events:detail-type": ["Status Page Changed"],
            "events:source": ["siren.incidents"],
        }
    }
    principal = json.dumps(allow["Principal"])
    assert ":root" in principal and "AWS::AccountId" in principal


def test_every_function_granted_put_events_on_the_bus_is_the_one_the_policy_admits(template, bus):
    """A function that starts putting events on the bus must be admitted by the policy too, or it fails on AWS
    (moto does not enforce resource policies, so no local test would notice)."""
    bus_name = bus["Properties"]["Name"]
    bus_logical_id = next(n for n, r in template["Resources"].items() if r is bus)
    putters = []
    for policy in (r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"):
        for grant in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = grant["Action"] if isinstance(grant["Action"], list) else [grant["Action"]]
            resource = json.dumps(grant.get("Resource"))
            if "events:PutEvents" in actions and (bus_logical_id in resource or bus_name in resource):
                putters += [{"Fn::GetAtt": [role["Ref"], "Arn"]} for role in policy["Properties"]["Roles"]]
    assert putters == [publisher_role(template)]
