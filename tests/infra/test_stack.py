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
        "by-status", "by-service", "by-time", "by-activity",
    }  # fmt: skip
    assert table["DeletionPolicy"] == "Retain"


def test_status_bucket_is_private_and_served_only_through_cloudfront(template):
    buckets = resources(template, "AWS::S3::Bucket")
    for bucket in buckets.values():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        }  # fmt: skip
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
