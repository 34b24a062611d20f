"""The synthesized Siren template: outputs, security defaults, least privilege. cdk-nag runs in synth itself
(an unacknowledged AwsSolutions finding fails ``synthesize``), so reaching these tests means it was clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.outputs import OUTPUT_NAMES


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "Siren.template.json").read_text())


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_outputs_have_their_stable_names(template):
    assert set(OUTPUT_NAMES) <= set(template["Outputs"])


def test_incident_table_is_on_demand_with_pitr_ttl_and_indexes(template):
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {index["IndexName"] for index in properties["GlobalSecondaryIndexes"]} == {
        "by-status",
        "by-service",
        "by-time",
        "by-activity",
    }
    assert table["DeletionPolicy"] == "Retain"


def test_status_bucket_is_private_and_served_only_through_cloudfront(template):
    buckets = resources(template, "AWS::S3::Bucket")
    for bucket in buckets.values():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert "BucketEncryption" in bucket["Properties"]
    assert len(resources(template, "AWS::CloudFront::OriginAccessControl")) == 1
    (distribution,) = resources(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"


def test_topics_are_encrypted_with_a_rotated_key(template):
    for topic in resources(template, "AWS::SNS::Topic").values():
        assert "KmsMasterKeyId" in topic["Properties"]
    for key in resources(template, "AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


def test_every_function_has_its_own_role_and_no_managed_policies(template):
    functions = resources(template, "AWS::Lambda::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles)
    for role in resources(template, "AWS::IAM::Role").values():
        assert not role["Properties"].get("ManagedPolicyArns")
    for function in functions.values():
        assert function["Properties"]["Runtime"].startswith("python3.")
        assert function["Properties"]["Layers"], "every function uses the shared layer"


def test_alarm_events_reach_ingest_with_a_dead_letter_queue(template):
    rules = resources(template, "AWS::Events::Rule")
    (rule,) = [r for r in rules.values() if r["Properties"]["EventPattern"].get("source") == ["aws.cloudwatch"]]
    assert rule["Properties"]["EventPattern"]["detail-type"] == [
        "CloudWatch Alarm State Change",
        "CloudWatch Alarm Contributor State Change",
    ]
    (target,) = rule["Properties"]["Targets"]
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400


def ops_topic(template: dict[str, Any]) -> str:
    (logical_id,) = [name for name in resources(template, "AWS::SNS::Topic") if name.startswith("OperationsOpsTopic")]
    return logical_id


def alarms_by_metric(template: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        found.setdefault((properties["Namespace"], properties["MetricName"]), []).append(properties)
    return found


def test_operations_contacts_are_subscribed_to_an_encrypted_topic_of_their_own(template):
    # GIVEN siren.yaml's operations contacts, THEN each is subscribed (SMS or email) to OpsTopic, and only there
    from siren.config import load_config

    contacts = load_config(Path(__file__).resolve().parents[2] / "siren.yaml").operations
    topic = ops_topic(template)
    subscribed = {
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic}
    }
    assert subscribed == {("sms", p) for p in contacts.phones} | {("email", e) for e in contacts.emails}
    assert subscribed, "the shipped siren.yaml names operations contacts"
    assert "KmsMasterKeyId" in template["Resources"][topic]["Properties"]
    assert template["Outputs"]["OpsTopicArn"]["Value"] == {"Ref": topic}


def test_cloudwatch_may_publish_to_the_ops_topic_only_for_this_accounts_alarms(template):
    policies = [
        statement
        for policy in resources(template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": ops_topic(template)} in policy["Properties"]["Topics"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    (statement,) = policies
    assert "aws:SourceArn" in json.dumps(statement["Condition"]["ArnLike"])


def test_siren_alarms_on_its_own_parts_and_tells_operations_both_ways(template):
    alarms = alarms_by_metric(template)
    functions = resources(template, "AWS::Lambda::Function")
    siren_functions = {name for name, f in functions.items() if f["Properties"].get("Layers")}
    watched_functions = {alarm["Dimensions"][0]["Value"]["Ref"] for alarm in alarms[("AWS/Lambda", "Errors")]}
    assert watched_functions == siren_functions  # every Siren function's errors...
    assert {a["Dimensions"][0]["Value"]["Ref"] for a in alarms[("AWS/Lambda", "Throttles")]} == siren_functions
    assert len(alarms[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]) >= 1  # ...any dead letter...
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):  # ...failed escalation runs...
        assert len(alarms[("AWS/States", metric)]) == 1, metric
    (age,) = alarms[("AWS/Lambda", "IteratorAge")]  # ...a stream relay falling behind...
    assert age["Threshold"] == 60_000 and age["Statistic"] == "Maximum"
    (refused,) = alarms[("Siren", "AlertsRefused")]  # ...alerts refused at the front door...
    assert refused["Dimensions"] == [{"Name": "service", "Value": "siren"}]
    (failed,) = alarms[("Siren", "PageDeliveryFailed")]  # ...any page that failed on a channel...
    assert failed["Dimensions"] == [{"Name": "service", "Value": "siren"}] and failed["Threshold"] == 1
    (repairs,) = alarms[("Siren", "EscalationsRepaired")]  # ...an escalation the reconciler had to repair...
    assert repairs["Threshold"] == 1
    (canary,) = alarms[("Siren", "CanaryHeartbeat")]  # ...and the canary missing: silence is what alarms
    assert canary["ComparisonOperator"] == "LessThanThreshold" and canary["TreatMissingData"] == "breaching"
    assert canary["Period"] == 300 and canary["EvaluationPeriods"] == canary["DatapointsToAlarm"] == 2

    topic = {"Ref": ops_topic(template)}
    for alarm in (a for found in alarms.values() for a in found):
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], alarm["AlarmName"]
        assert alarm["AlarmName"]["Fn::Join"][1][0] == {"Ref": "AWS::StackName"}  # Siren-...
        assert len(alarm["AlarmDescription"]) > 40, "each alarm says what to do"
        assert alarm["TreatMissingData"] == ("breaching" if alarm is canary else "notBreaching")


def test_the_stream_relay_retries_until_records_expire_and_keeps_what_expires(template):
    """An event the relay gives up on is an incident that never pages: no retry count, no record age shorter
    than the stream's 24 hours, bisection to isolate a poison record, the DLQ for what truly expires."""
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["MaximumRetryAttempts"] == -1
    assert properties.get("MaximumRecordAgeInSeconds", -1) == -1
    assert properties["BisectBatchOnFunctionError"] is True
    (queue,) = [name for name in resources(template, "AWS::SQS::Queue") if name.startswith("IngestDeadLetters")]
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [queue, "Arn"]}
