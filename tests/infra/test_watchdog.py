"""The watchdog stack in the synthesized assembly: its own encrypted topic for the operations contacts, one alarm
on the canary's heartbeat (missing data breaches), its own region from CDK context, nothing shared with Siren."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

from infra.nag import apply_nag
from infra.outputs import WATCHDOG_OUTPUT_NAMES
from infra.watchdog import add_watchdog, watchdog_region
from siren.config import load_config
from siren.domain.policy import Operations
from siren.watchdog import WATCHDOG_DIMENSION, WATCHDOG_METRIC, WATCHDOG_NAMESPACE

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "SirenWatchdog.template.json").read_text())


@pytest.fixture(scope="module")
def operations() -> Operations:
    return load_config(PROJECT_ROOT / "siren.yaml").operations


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def the_topic(template: dict[str, Any]) -> str:
    (topic,) = resources(template, "AWS::SNS::Topic")
    return topic


def test_the_topic_is_encrypted_with_a_rotated_key_of_its_own_and_ssl_only(template):
    (key_name, key), *others = resources(template, "AWS::KMS::Key").items()
    assert not others and key["Properties"]["EnableKeyRotation"] is True
    assert template["Resources"][the_topic(template)]["Properties"]["KmsMasterKeyId"] == {
        "Fn::GetAtt": [key_name, "Arn"]
    }
    (policy,) = resources(template, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    plain_http = {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s["Effect"] == "Deny" and s["Condition"] == plain_http for s in statements)


def test_only_this_accounts_alarms_may_publish_and_use_the_key(template):
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
    (policy,) = resources(template, "AWS::SNS::TopicPolicy").values()
    (publish,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Principal") == cloudwatch]
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = json.dumps(publish["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":alarm:" in source_arn and "AWS::StackName" in source_arn  # this stack's alarms only

    (key,) = resources(template, "AWS::KMS::Key").values()
    (use,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == cloudwatch]
    assert use["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_operations_contacts_are_subscribed(template, operations):
    # GIVEN siren.yaml's operations contacts, THEN each is subscribed (SMS or email) to the watchdog's topic
    subscribed = {
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": the_topic(template)}
    }
    assert subscribed == {("sms", p) for p in operations.phones} | {("email", e) for e in operations.emails}
    assert subscribed, "the shipped siren.yaml names operations contacts"


def test_one_alarm_fires_when_two_heartbeat_intervals_pass_without_a_heartbeat(template, operations):
    (alarm,) = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    assert alarm["AlarmName"] == {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-CanarySilent"]]}
    assert (alarm["Namespace"], alarm["MetricName"]) == (WATCHDOG_NAMESPACE, WATCHDOG_METRIC)
    assert alarm["Dimensions"] == [{"Name": WATCHDOG_DIMENSION, "Value": "Siren"}]  # the primary stack's name
    assert alarm["Statistic"] == "Sum" and alarm["Period"] == operations.heartbeat_minutes * 60
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"  # a silent canary puts nothing at all
    topic = {"Ref": the_topic(template)}
    assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
    for what_to_do in ("siren health", "ops alarms", "AWS Health"):
        assert what_to_do in alarm["AlarmDescription"]


def test_the_topic_is_an_output(template):
    assert set(WATCHDOG_OUTPUT_NAMES) <= set(template["Outputs"])
    assert template["Outputs"]["WatchdogTopicArn"]["Value"] == {"Ref": the_topic(template)}


def test_the_watchdog_shares_nothing_with_siren(template, siren_assembly):
    text = json.dumps(template)
    assert "Fn::ImportValue" not in text
    assert not any("Export" in output for output in template["Outputs"].values())
    assert set(template.get("Parameters", {})) <= {"BootstrapVersion"}
    siren = json.loads((siren_assembly / "Siren.template.json").read_text())
    assert not any("Export" in output for output in siren["Outputs"].values())
    artifacts = json.loads((siren_assembly / "manifest.json").read_text())["artifacts"]
    assert artifacts["SirenWatchdog"].get("dependencies", []) == ["SirenWatchdog.assets"]
    assert "SirenWatchdog" not in json.dumps(artifacts["Siren"].get("dependencies", []))


def test_the_region_comes_from_context_with_cdk_jsons_default(siren_assembly):
    artifacts = json.loads((siren_assembly / "manifest.json").read_text())["artifacts"]
    default = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]["watchdog_region"]
    assert default == "us-west-2"
    assert artifacts["SirenWatchdog"]["environment"] == f"aws://unknown-account/{default}"
    assert watchdog_region(cdk.App()) == default

    app = cdk.App(context={"watchdog_region": "eu-west-1"})
    watchdog = add_watchdog(app, cdk.Stack(app, "Siren"), Operations(emails=("ops@example.com",)))
    assert watchdog.region == "eu-west-1" and watchdog.stack_name == "SirenWatchdog"


def test_a_watchdog_in_the_primarys_own_region_is_refused():
    app = cdk.App(context={"watchdog_region": "us-east-1"})
    primary = cdk.Stack(app, "Siren", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(SystemExit, match="another region"):
        add_watchdog(app, primary, Operations())


def watchdog_app(tmp_path: Path, *, with_plain_topic: bool = False) -> cdk.App:
    """The app as infra/app.py builds it, with a bare primary in place of Siren (cdk-nag checks every stack)."""
    app = cdk.App(outdir=str(tmp_path))
    primary = cdk.Stack(app, "Siren")
    cdk.CfnWaitConditionHandle(primary, "Nothing")  # a stack needs a resource
    watchdog = add_watchdog(app, primary, Operations(phones=("+14255550199",), emails=("ops@example.com",)))
    if with_plain_topic:
        sns.Topic(watchdog, "Plain")
    apply_nag(app, primary)
    return app


def test_cdk_nag_passes_the_watchdog_without_acknowledgements(siren_assembly, tmp_path):
    # GIVEN cdk-nag on the app THEN the watchdog synthesizes (an unacknowledged finding would fail it)...
    watchdog_app(tmp_path / "clean").synth()
    metadata = (siren_assembly / "SirenWatchdog.metadata.json").read_text()
    assert "AwsSolutions" not in metadata  # ...with nothing acknowledged
    # ...and the checks do cover it: a topic that allows plain HTTP fails the synth.
    with pytest.raises(RuntimeError, match="AwsSolutions-SNS3"):
        watchdog_app(tmp_path / "plain", with_plain_topic=True).synth()
