"""Least privilege in the synthesized template, where moto cannot check it: the embedded local AWS ignores IAM
conditions such as ``dynamodb:LeadingKeys`` and ``ses:FromAddress``, so these tests read the policies themselves.

- every function touches only the item families it uses (``dynamodb:LeadingKeys``), the indexes it queries by
  name, and never Scans;
- email goes out only from the EmailSender address; direct SMS through SNS can never publish to a topic;
- the public function URLs are capped and the paging path reserved (stack parameter ReservedConcurrency);
- cdk-nag's SQS3 is acknowledged on the dead-letter queue, not for the whole stack.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.components.functions import ReservedConcurrency, grant_table_items
from infra.components.store import INDEXES, ItemFamily

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = PROJECT_ROOT / "layers" / "siren" / "adapters"
# Prefixes of keys that are not a table partition key: sort keys, and the indexes' partition keys.
SORT_KEY_PREFIXES = {"TL#", "ESC#", "SENT#", "COMPONENT#", "MAINT#"}
INDEX_KEY_PREFIXES = {"STATUS#", "SERVICE#", "CANARY#", "MONTH#", "ACTIVITY#"}
# Stream reads come with the stream event source (scoped to the table's stream by CDK), not item access.
STREAM_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "Siren.template.json").read_text())


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_by_role(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for policy in resources(template, "AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            found.setdefault(role["Ref"], []).extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def function_statements(template: dict[str, Any], function_prefix: str) -> list[dict[str, Any]]:
    (function,) = [r for n, r in resources(template, "AWS::Lambda::Function").items() if n.startswith(function_prefix)]
    return statements_by_role(template)[function["Properties"]["Role"]["Fn::GetAtt"][0]]


def table_id(template: dict[str, Any]) -> str:
    (name,) = resources(template, "AWS::DynamoDB::Table")
    return name


def dynamodb_item_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        s for s in statements if any(a.startswith("dynamodb:") and a not in STREAM_ACTIONS for a in listed(s["Action"]))
    ]


def index_resource(template: dict[str, Any], index: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [{"Fn::GetAtt": [table_id(template), "Arn"]}, f"/index/{index}"]]}


def grants(template: dict[str, Any], function_prefix: str) -> tuple[dict[frozenset[str], set[str]], set[str]]:
    """(item actions -> the families they are allowed on, the indexes it may Query), failing on anything else."""
    table = {"Fn::GetAtt": [table_id(template), "Arn"]}
    on_items: dict[frozenset[str], set[str]] = {}
    indexes: set[str] = set()
    for statement in dynamodb_item_statements(function_statements(template, function_prefix)):
        assert statement["Effect"] == "Allow"
        actions = frozenset(listed(statement["Action"]))
        if listed(statement["Resource"]) == [table]:
            leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            on_items.setdefault(actions, set()).update(listed(leading))
        else:
            assert actions == {"dynamodb:Query"}, statement
            names = {
                index
                for index in INDEXES
                for r in listed(statement["Resource"])
                if r == index_resource(template, index)
            }
            assert len(names) == len(listed(statement["Resource"])), f"index queries by name only: {statement}"
            indexes |= names
    return on_items, indexes


# -- the table, item family by item family ------------------------------------------------------------------------
def test_the_status_publisher_touches_only_the_status_page_partition_and_reads_incidents_by_index(template):
    # GIVEN the public status page's publisher THEN it may update and query the status page's own items (the lease,
    # the request mark, hand-set statuses) and query the open incidents (by-status) and recent ones (by-time):
    # no incident, code, raw alert or link nonce by key, no put or delete, no Scan.
    on_items, indexes = grants(template, "StatusPublisherPublishFunction")
    assert on_items == {frozenset({"dynamodb:Query", "dynamodb:UpdateItem"}): {ItemFamily.STATUS_PAGE.value}}
    assert indexes == {"by-status", "by-time"}


def test_the_report_only_reads_action_items_and_the_periods_incidents_and_pages(template):
    on_items, indexes = grants(template, "ReportsReportFunction")
    assert on_items == {frozenset({"dynamodb:Query"}): {ItemFamily.ACTION_ITEMS.value}}
    assert indexes == {"by-time", "by-activity"}


def test_no_function_gets_the_whole_table_a_scan_or_every_index(template):
    # Every statement on the table's items names the item families (dynamodb:LeadingKeys); indexes by name.
    table = {"Fn::GetAtt": [table_id(template), "Arn"]}
    broad = []
    for role, statements in statements_by_role(template).items():
        for statement in dynamodb_item_statements(statements):
            actions = listed(statement["Action"])
            targets = listed(statement["Resource"])
            if any(a in ("dynamodb:Scan", "dynamodb:*") for a in actions):
                broad.append(f"{role}: {actions}")
            if table in targets and "dynamodb:LeadingKeys" not in json.dumps(statement.get("Condition", {})):
                broad.append(f"{role}: {actions} on the whole table")
            if any("/index/*" in json.dumps(t) for t in targets):
                broad.append(f"{role}: every index")
    assert broad == []


def test_item_families_cover_every_partition_key_the_adapters_write():
    # GIVEN a new kind of item in the store adapters (a new "XYZ#" key prefix) THEN this fails until it is an
    # ItemFamily, so that the functions that touch it are granted it and nothing else is.
    from siren.adapters.dynamodb import action_items, heartbeats, status_page

    prefixes = {
        match for path in ADAPTERS.rglob("*.py") for match in re.findall(r"\"([A-Z]{2,}#)", path.read_text())
    } | {match for path in ADAPTERS.rglob("*.py") for match in re.findall(r"f\"([A-Z]{2,}#)\{", path.read_text())}
    families = {family.value.removesuffix("*") for family in ItemFamily if family.value.endswith("#*")}
    unknown = prefixes - families - SORT_KEY_PREFIXES - INDEX_KEY_PREFIXES
    assert unknown == set(), "a new item family? add it to infra.components.store.ItemFamily and grant it"
    exact = {status_page.STATUS_PAGE_PK, action_items.ACTIONS_PK, heartbeats.HEARTBEATS_PK, heartbeats.CANARY_PK}
    assert exact <= {family.value for family in ItemFamily}


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"actions": ["Scan"], "leading_keys": [ItemFamily.INCIDENT]}, "actions must be some of"),
        ({"actions": [], "leading_keys": [ItemFamily.INCIDENT]}, "actions must be some of"),
        ({"actions": ["GetItem"], "leading_keys": []}, "leading_keys must name"),
        ({"actions": ["GetItem"], "leading_keys": ["*"]}, "is not a valid ItemFamily"),
        (
            {"actions": ["Query"], "leading_keys": [ItemFamily.INCIDENT], "index_queries": ["by-colour"]},
            "no such index",
        ),
    ],
)
def test_a_grant_that_is_too_wide_or_misspelt_is_refused(arguments, complaint):
    # Refused before anything is granted: the function and table are never touched.
    with pytest.raises(ValueError, match=complaint):
        grant_table_items(object(), object(), **arguments)  # type: ignore[arg-type]


# -- email and SMS ------------------------------------------------------------------------------------------------
def allowed(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if s["Effect"] == "Allow" and action in listed(s["Action"])]


def test_email_goes_out_only_from_the_sender(template):
    # Scoped to SES identities, and pinned to the EmailSender parameter: either by the From address (a condition)
    # or by the resources themselves (the sender's own identity ARNs, address or domain).
    senders = 0
    for role, statements in statements_by_role(template).items():
        for statement in allowed(statements, "ses:SendEmail"):
            senders += 1
            targets = listed(statement["Resource"])
            assert "*" not in targets and all(":identity/" in json.dumps(t) for t in targets), role
            pinned_by_condition = statement.get("Condition") == {
                "StringEquals": {"ses:FromAddress": {"Ref": "EmailSender"}}
            }
            pinned_by_resource = all('{"Ref": "EmailSender"}' in json.dumps(t) for t in targets)
            assert pinned_by_condition or pinned_by_resource, role
    assert senders >= 1, "the report sends email"


def test_direct_sms_through_sns_can_never_publish_to_a_topic(template):
    # sns:Publish to a phone number has no resource ("*"); an explicit Deny on every topic ARN keeps it there
    for role, statements in statements_by_role(template).items():
        if any("*" in listed(s["Resource"]) for s in allowed(statements, "sns:Publish")):
            denies = [s for s in statements if s["Effect"] == "Deny" and "sns:Publish" in listed(s["Action"])]
            assert any(":sns:*:*:*" in json.dumps(s["Resource"]) for s in denies), role


# -- reserved concurrency -----------------------------------------------------------------------------------------
def function_of(reference: dict[str, Any]) -> str:
    return str(reference["Fn::GetAtt"][0] if "Fn::GetAtt" in reference else reference["Ref"])


def public_functions(template: dict[str, Any]) -> set[str]:
    return {
        function_of(url["Properties"]["TargetFunctionArn"])
        for url in resources(template, "AWS::Lambda::Url").values()
        if url["Properties"]["AuthType"] == "NONE"
    }


def paging_path(template: dict[str, Any]) -> set[str]:
    """Functions between an alarm and a page: the state machine's tasks, the stream relay, the SNS-fed (alarms, SMS
    replies) and the EventBridge rules that match on a detail type (alarm state changes, lifecycle events)."""
    found = set()
    for machine in resources(template, "AWS::StepFunctions::StateMachine").values():
        found |= {function_of(ref) for ref in machine["Properties"]["DefinitionSubstitutions"].values()}
    found |= {
        function_of(m["Properties"]["FunctionName"])
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
    }
    found |= {
        function_of(s["Properties"]["Endpoint"])
        for s in resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "lambda"
    }
    for rule in resources(template, "AWS::Events::Rule").values():
        if "detail-type" in rule["Properties"].get("EventPattern", {}):
            found |= {function_of(t["Arn"]) for t in rule["Properties"]["Targets"]}
    return found


def reservation(template: dict[str, Any], function: str) -> int | None:
    value = template["Resources"][function]["Properties"].get("ReservedConcurrentExecutions")
    if value is None:
        return None
    condition, executions, otherwise = value["Fn::If"]
    assert condition == "ReserveConcurrency" and otherwise == {"Ref": "AWS::NoValue"}, value
    return int(executions)


def test_public_urls_are_capped_and_the_paging_path_reserved(template):
    public, paging = public_functions(template), paging_path(template)
    assert len(public) >= 2 and len(paging) >= 8  # the webhook and ack links; alarm intake ... escalation tasks
    missing = sorted(f for f in public | paging if reservation(template, f) is None)
    assert missing == []
    webhook = next(f for f in public if f.startswith("IngestWebhook"))
    assert reservation(template, webhook) == ReservedConcurrency.PUBLIC_WEBHOOK


def test_reservations_fit_the_budget_and_are_off_with_the_parameter(template):
    reserved = [r for f in resources(template, "AWS::Lambda::Function") if (r := reservation(template, f))]
    # An account at the default quota (1000) keeps the 100 unreserved executions Lambda requires, and far more.
    assert sum(reserved) <= ReservedConcurrency.BUDGET <= 1000 - 100
    parameter = template["Parameters"]["ReservedConcurrency"]
    assert parameter["Default"] == "ENABLED" and parameter["AllowedValues"] == ["ENABLED", "DISABLED"]
    assert "DISABLED" in parameter["Description"]  # says what new accounts (quota 10) do
    assert template["Conditions"]["ReserveConcurrency"] == {"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "ENABLED"]}


# -- cdk-nag acknowledgements -------------------------------------------------------------------------------------
def acknowledgements(assembly: Path, rule: str) -> list[str]:
    metadata = json.loads((assembly / "Siren.metadata.json").read_text())
    return [
        path
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules" and f"Annotation::AwsSolutions-{rule}" in entry["data"]
    ]


def test_sqs3_is_acknowledged_on_the_dead_letter_queue_alone(siren_assembly):
    # A queue added without a dead-letter queue of its own must be flagged, not covered by a stack-wide excuse
    assert acknowledgements(siren_assembly, "SQS3") == ["/Siren/Ingest/DeadLetters"]
