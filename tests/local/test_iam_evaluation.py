"""The local IAM evaluation (siren_local/iam/): AWS's rules for identity policies in one account, for what the
runtime can know; what it cannot know never refuses.

Pure: policies and requests in, a decision out (the DynamoDB key schema is the one thing read from moto, and the
tests that need it give a table name the backend does not know, so LeadingKeys comes from the request alone)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from siren_local.iam.actions import Request, request_checks
from siren_local.iam.policy import Check, condition_holds, evaluate

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/Siren-Incidents"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_an_allow_on_the_resource_allows_and_nothing_else_does():
    granted = [policy(allow(["dynamodb:GetItem", "dynamodb:Query"], [TABLE, f"{TABLE}/index/*"]))]

    assert evaluate(granted, Check("dynamodb:GetItem", TABLE)).allowed
    assert evaluate(granted, Check("dynamodb:Query", f"{TABLE}/index/by-status")).allowed
    assert not evaluate(granted, Check("dynamodb:PutItem", TABLE)).allowed  # another action
    assert not evaluate(granted, Check("dynamodb:GetItem", TABLE + "2")).allowed  # another table
    assert not evaluate([], Check("dynamodb:GetItem", TABLE)).allowed  # no policy: refused


def test_actions_match_without_case_and_with_wildcards_resources_with_case():
    granted = [policy(allow("DynamoDB:*Item", "arn:aws:dynamodb:*:*:table/Siren-*"))]

    assert evaluate(granted, Check("dynamodb:PutItem", TABLE)).allowed
    assert not evaluate(granted, Check("dynamodb:PutItem", TABLE.replace("Siren", "siren"))).allowed


def test_an_explicit_deny_wins_over_any_allow():
    documents = [policy(allow("sns:Publish")), policy(deny("sns:Publish", "arn:aws:sns:*:*:*"))]

    assert evaluate(documents, Check("sns:Publish", "*")).allowed  # SMS to a number: no resource, allowed on "*"
    decision = evaluate(documents, Check("sns:Publish", "arn:aws:sns:us-east-1:123456789012:ops"))
    assert (decision.allowed, decision.reason) == (False, "explicit deny")


def test_not_action_and_not_resource():
    documents = [policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": f"{TABLE}/index/*"})]

    assert evaluate(documents, Check("dynamodb:GetItem", TABLE)).allowed
    assert not evaluate(documents, Check("iam:CreateUser", "*")).allowed
    assert not evaluate(documents, Check("dynamodb:Query", f"{TABLE}/index/by-time")).allowed


@pytest.mark.parametrize(
    ("leading", "allowed"),
    [(["STATUSPAGE"], True), (["STATUSPAGE", "INC#1"], False), (["INC#1"], False), ([], True)],
)
def test_leading_keys_for_all_values(leading, allowed):
    """ForAllValues: every partition key the request touches must match; a request with none (a Scan) passes,
    as on AWS."""
    documents = [
        policy(
            allow(
                "dynamodb:Query", TABLE, Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["STATUSPAGE"]}}
            )
        )
    ]

    check = Check("dynamodb:Query", TABLE, {"dynamodb:leadingkeys": leading})
    assert evaluate(documents, check).allowed is allowed


def test_a_condition_the_runtime_cannot_know_is_met_in_an_allow_and_not_in_a_deny():
    condition = {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*"}}
    documents = [policy(allow("sqs:SendMessage", "*", Condition=condition))]
    decision = evaluate(documents, Check("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q"))
    assert decision.allowed and decision.unchecked == ("ArnLike aws:SourceArn",)

    with_deny = [*documents, policy(deny("sqs:SendMessage", "*", Condition=condition))]
    assert evaluate(with_deny, Check("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")).allowed


def test_a_resource_the_runtime_cannot_name_is_judged_on_the_action():
    documents = [policy(allow("states:SendTaskSuccess", "arn:aws:states:us-east-1:123456789012:stateMachine:x"))]

    assert evaluate(documents, Check("states:SendTaskSuccess", None)).allowed
    assert not evaluate(documents, Check("states:SendTaskFailure", None)).allowed
    assert not evaluate([*documents, policy(deny("states:*"))], Check("states:SendTaskSuccess", None)).allowed


@pytest.mark.parametrize(
    ("operator", "expected", "values", "holds"),
    [
        ("StringEquals", "a@x", ["a@x"], True),
        ("StringEquals", ["a@x", "b@x"], ["c@x"], False),
        ("StringNotEquals", "a@x", ["b@x"], True),
        ("StringEqualsIgnoreCase", "A@X", ["a@x"], True),
        ("StringLike", "INC#*", ["INC#42"], True),
        ("ForAnyValue:StringLike", ["A", "B"], ["C", "B"], True),
        ("ForAllValues:StringLike", ["A", "B"], ["C", "B"], False),
        ("ForAllValues:StringNotLike", ["A"], ["B", "C"], True),
        ("StringEqualsIfExists", "x", [], True),
        ("StringEquals", "x", [], False),
        ("Null", "true", [], True),
        ("Null", "false", [], False),
        ("NumericLessThan", "5", ["3"], None),  # an operator the runtime does not evaluate
    ],
)
def test_condition_operators(operator, expected, values, holds):
    assert condition_holds(operator, "k", expected, {"k": values}) is holds


def test_an_unknown_key_cannot_be_told():
    assert condition_holds("StringEquals", "aws:SourceAccount", "1", {}) is None


def request(service: str, action: str, params: dict[str, Any] | None = None, path: str = "/") -> Request:
    return Request(service, action, "us-east-1", "123456789012", path, params or {}, "*")


def test_resources_and_keys_of_the_requests_siren_makes():
    query = request(
        "dynamodb",
        "dynamodb:Query",
        {
            "TableName": "Siren-Incidents",
            "IndexName": "by-status",
            "KeyConditionExpression": "#0 = :0",
            "ExpressionAttributeNames": {"#0": "status_pk"},
            "ExpressionAttributeValues": {":0": {"S": "OPEN"}},
        },
    )
    (check,) = request_checks(query)
    assert check.resource == f"{TABLE}/index/by-status"
    # The table is not in moto's backend here, so the key schema (and LeadingKeys) is unknown: not refused for it.
    assert check.context == {}

    put_events = request("events", "events:PutEvents", {"Entries": [{"EventBusName": "siren"}, {}]})
    assert [c.resource for c in request_checks(put_events)] == [
        "arn:aws:events:us-east-1:123456789012:event-bus/default",
        "arn:aws:events:us-east-1:123456789012:event-bus/siren",
    ]

    invoke = request("lambda", "lambda:Invoke", path="/2015-03-31/functions/Siren-Chunks/invocations")
    assert request_checks(invoke) == [
        Check("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:Siren-Chunks")
    ]

    sms = request("sns", "sns:Publish", {"PhoneNumber": "+14255550100", "Message": "x"})
    assert request_checks(sms) == [Check("sns:Publish", "*")]

    email = request("ses", "ses:SendEmail", {"FromEmailAddress": "Siren <siren@example.com>"})
    identity = "arn:aws:ses:us-east-1:123456789012:identity/siren@example.com"
    assert request_checks(email) == [Check("ses:SendEmail", identity, {"ses:fromaddress": ["siren@example.com"]})]

    metric = request("monitoring", "monitoring:PutMetricData", {"Namespace": "Siren/Canary"})
    namespace = {"cloudwatch:namespace": ["Siren/Canary"]}
    assert request_checks(metric) == [Check("cloudwatch:PutMetricData", "*", namespace)]

    transact = request(
        "dynamodb",
        "dynamodb:TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "Siren-Incidents", "Item": {}}},
                {"ConditionCheck": {"TableName": "Other", "Key": {}}},
            ]
        },
    )
    assert [(c.action, c.resource) for c in request_checks(transact)] == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Other"),
    ]


def test_a_client_cached_by_one_function_signs_with_the_keys_of_the_function_running_now(monkeypatch):
    """Functions share this process and its cached clients: each request must carry the running function's role."""
    import boto3

    from siren.settings import function_environment
    from siren_local import environ
    from siren_local.iam.credentials import install_credentials

    environ.install()
    install_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "runtime-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "runtime-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    page_role = {"AWS_ACCESS_KEY_ID": "ASIAPAGE", "AWS_SECRET_ACCESS_KEY": "s1", "AWS_SESSION_TOKEN": "t1"}
    status_role = {"AWS_ACCESS_KEY_ID": "ASIASTATUS", "AWS_SECRET_ACCESS_KEY": "s2", "AWS_SESSION_TOKEN": "t2"}

    with function_environment(page_role):
        client = boto3.session.Session(region_name="us-east-1").client("dynamodb")  # made, and cached, by one
    credentials = client._request_signer._credentials

    with function_environment(status_role):
        assert tuple(credentials.get_frozen_credentials())[:3] == ("ASIASTATUS", "s2", "t2")
    with function_environment(page_role):
        assert tuple(credentials.get_frozen_credentials())[:3] == ("ASIAPAGE", "s1", "t1")
    # No function runs in this thread (Step Functions, the scheduler, a test): the process's keys.
    assert tuple(credentials.get_frozen_credentials())[:3] == ("runtime-key", "runtime-secret", None)
