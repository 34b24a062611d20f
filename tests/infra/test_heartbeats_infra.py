"""The heartbeat check in the synthesized template: a schedule every minute, with a role that invokes that one
function only, and a function that can write incidents and nothing it does not need."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "Siren.template.json").read_text())


def heartbeat_schedule(template: dict[str, Any]) -> dict[str, Any]:
    """The schedule whose target is the heartbeat check (other schedules may run every minute too)."""
    resources = template["Resources"]

    def handler(arn: Any) -> str | None:
        name = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
        return resources.get(name, {}).get("Properties", {}).get("Handler")

    (schedule,) = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Scheduler::Schedule"
        and handler(resource["Properties"]["Target"]["Arn"]) == "ingest_handlers.check_heartbeats"
    ]
    return dict(schedule)


def policies_of(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_check_runs_every_minute_on_the_heartbeat_function_without_retries(template):
    schedule = heartbeat_schedule(template)
    target = schedule["Target"]

    assert schedule["ScheduleExpression"] == "rate(1 minute)" and schedule["State"] == "ENABLED"
    # The next minute's check does the same work: a retry would only overlap it.
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 0}
    assert "DeadLetterConfig" in target


def test_the_schedule_role_invokes_the_heartbeat_function_only(template):
    target = heartbeat_schedule(template)["Target"]
    function = target["Arn"]["Fn::GetAtt"][0]
    statements = policies_of(template, target["RoleArn"]["Fn::GetAtt"][0])

    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert len(invoke) == 1
    assert all(function in json.dumps(resource) for resource in invoke[0]["Resource"])
    assert {s["Action"] for s in statements} == {"lambda:InvokeFunction", "sqs:SendMessage"}  # and its DLQ


def test_the_heartbeat_function_reads_no_secret_and_puts_no_events(template):
    function = heartbeat_schedule(template)["Target"]["Arn"]["Fn::GetAtt"][0]
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    actions = {
        action
        for s in policies_of(template, role)
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }

    assert "dynamodb:PutItem" in actions and "dynamodb:Query" in actions  # it opens incidents
    assert not {a for a in actions if a.startswith(("secretsmanager:", "events:", "sns:"))}
    # ...and starts their escalations at once (and ends a resolved one's wait), nothing else of Step Functions
    assert {a for a in actions if a.startswith("states:")} == {"states:StartExecution", "states:SendTaskSuccess"}
