"""IAM enforced on the embedded local AWS: each function calls AWS as its own execution role, and a grant narrowed
too far fails here as it would on AWS.

GIVEN the deployed stack with enforcement on (as `siren local up` and the e2e tier run it),
WHEN one statement is removed from one function's role policy, THEN that function fails with AccessDenied (and
the refusal is recorded with the role and the action), while the same function with its policy as deployed works.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import running_runtime

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def enforced(siren_assembly: Path) -> Iterator[Any]:
    """One runtime for the module, IAM enforced; each test puts back any policy it changes."""
    yield from running_runtime("http", 60, siren_assembly, enforce_iam=True, expect_access_denied=True)


def function_named(runtime: Any, logical_prefix: str) -> dict[str, Any]:
    """The deployed function whose logical id starts with ``logical_prefix``: its name and its role's name."""
    resources = runtime.client("cloudformation").describe_stack_resources(StackName="Siren")["StackResources"]
    (function,) = [
        r
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function" and r["LogicalResourceId"].startswith(logical_prefix)
    ]
    name = function["PhysicalResourceId"].rsplit(":", 1)[-1]
    role_arn = runtime.client("lambda").get_function_configuration(FunctionName=name)["Role"]
    return {"name": name, "role": role_arn.rsplit("/", 1)[-1]}


def invoke(runtime: Any, function_name: str) -> tuple[bool, dict[str, Any]]:
    """Invoke as the schedule does; (whether the function errored, its answer)."""
    response = runtime.client("lambda").invoke(FunctionName=function_name, Payload=b"{}")
    return "FunctionError" in response, json.loads(response["Payload"].read() or b"{}")


def statements_granting(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if s["Effect"] == "Allow" and action in _as_list(s["Action"])]


@contextlib.contextmanager
def without_grant(runtime: Any, role: str, action: str) -> Iterator[list[dict[str, Any]]]:
    """The role's policy without the statements that allow ``action`` (as a narrowing would leave it), put back
    as deployed afterwards; yields the statements removed."""
    iam = runtime.client("iam")
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    deployed = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    deployed = json.loads(deployed) if isinstance(deployed, str) else deployed
    removed = statements_granting(deployed, action)
    assert removed, f"{role} is expected to be allowed {action}"
    narrowed = {**deployed, "Statement": [s for s in deployed["Statement"] if s not in removed]}
    iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(narrowed))
    try:
        yield removed
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(deployed))


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_functions_call_as_their_own_roles_and_the_deployed_grants_suffice(enforced):
    publisher = function_named(enforced, "StatusPublisherPublish")

    errored, answer = invoke(enforced, publisher["name"])

    assert not errored, answer
    assert enforced.iam is not None and enforced.iam.denials == []
    # It ran as its role (an STS session of it), not as the runtime: the role's session is what STS issued.
    from moto.sts.models import sts_backends

    sessions = {role.role_arn.rsplit("/", 1)[-1] for role in sts_backends["123456789012"]["aws"].assumed_roles}
    assert publisher["role"] in sessions


def test_a_statement_removed_from_a_role_fails_its_function_with_access_denied(enforced):
    publisher = function_named(enforced, "StatusPublisherPublish")

    # The publisher updates its publish state in the table: without that grant, it cannot publish.
    with without_grant(enforced, publisher["role"], "dynamodb:UpdateItem"):
        errored, answer = invoke(enforced, publisher["name"])

    assert errored
    # As DynamoDB refuses: AccessDeniedException, naming the role's session and the action (PynamoDB's error).
    assert "AccessDeniedException" in answer["errorMessage"], answer
    assert "is not authorized to perform: dynamodb:UpdateItem" in answer["errorMessage"], answer
    denial = enforced.iam.denials[-1]
    assert denial.action == "dynamodb:UpdateItem"
    assert denial.principal.split("/")[1] == publisher["role"]  # arn:aws:sts::<account>:assumed-role/<role>/<session>
    assert denial.resource is not None and denial.resource.endswith(
        ":table/" + enforced.stacks["Siren"].outputs["IncidentsTableName"]
    )

    # The policy as deployed again: the same function works.
    enforced.iam.denials.clear()
    errored, answer = invoke(enforced, publisher["name"])
    assert not errored, answer
    assert enforced.iam.denials == []


def test_the_local_end_user_messaging_authorizes_as_aws_does(enforced):
    """End User Messaging is the runtime's own fake, not moto: it authorizes the same way (here with the page
    function's credentials, as the function would call it)."""
    import boto3
    from botocore.exceptions import ClientError

    from siren_local.inbound_sms import LOCAL_ORIGINATION_NUMBER

    page = function_named(enforced, "EscalationPage")
    iam = enforced.client("iam")
    role_arn = iam.get_role(RoleName=page["role"])["Role"]["Arn"]
    keys = enforced.iam.role_credentials(role_arn)
    sms = boto3.session.Session(
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys["AWS_SESSION_TOKEN"],
        region_name=enforced.region,
    ).client("pinpoint-sms-voice-v2", endpoint_url=enforced.endpoint_url)
    send = {
        "DestinationPhoneNumber": "+14255550177",
        "OriginationIdentity": LOCAL_ORIGINATION_NUMBER,
        "MessageBody": "test page",
    }

    sms.send_text_message(**send)
    assert [m["to"] for m in enforced.outbox_json()].count("+14255550177") == 1

    with without_grant(enforced, page["role"], "sms-voice:SendTextMessage"), pytest.raises(ClientError) as refused:
        sms.send_text_message(**send)

    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert [m["to"] for m in enforced.outbox_json()].count("+14255550177") == 1  # nothing sent
    assert enforced.iam.denials[-1].action == "sms-voice:SendTextMessage"
    enforced.iam.denials.clear()
