"""Every sample payload in tests/events goes through its parser and gives the signal a responder expects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.domain.parsers import (
    CLOUDWATCH_DETAIL_TYPES,
    PARSERS_BY_SOURCE,
    parse_alertmanager,
    parse_canary,
    parse_cloudwatch_event,
    parse_cloudwatch_sns_message,
    parse_datadog,
    parse_generic,
    parse_grafana,
)
from siren.domain.parsers._alerts import labels_fingerprint
from siren.domain.parsers.cloudwatch import region_code
from siren.domain.signals import ParseError, Signal, SignalStatus, Source

EVENTS = Path(__file__).parent.parent / "events"
RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def sns_signal(name: str) -> Signal:
    sns = load(name)["Records"][0]["Sns"]
    return parse_cloudwatch_sns_message(sns["Message"], sns["MessageId"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# -- CloudWatch through EventBridge ---------------------------------------------------------------------------------
def test_metric_alarm_event():
    signal = parse_cloudwatch_event(load("cw_alarm_state_change_alarm.json"))

    assert signal.source is Source.CLOUDWATCH
    assert signal.status is SignalStatus.FIRING
    assert signal.delivery_id == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
    assert signal.title == "ServerCpuTooHigh"
    assert signal.summary.startswith("Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434")
    assert signal.occurred_at == at("2019-10-02T17:04:40.989+00:00")
    assert signal.occurred_at.tzinfo is UTC
    assert signal.hints.alarm_name == "ServerCpuTooHigh"
    assert signal.hints.namespace == "AWS/EC2"
    assert signal.hints.metric == "CPUUtilization"
    assert signal.hints.description == "Goes into alarm when server CPU utilization is too high!"
    assert signal.hints.labels == {"InstanceId": "i-12345678901234567"}
    assert signal.link == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/ServerCpuTooHigh"
    )
    assert signal.details == {
        "alarm_arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh",
        "region": "us-east-1",
        "account": "123456789012",
        "previous_state": "OK",
        "alarm_type": "metric",
    }


def test_metric_math_alarm_and_its_recovery():
    firing = parse_cloudwatch_event(load("cw_alarm_metric_math_alarm.json"))
    resolved = parse_cloudwatch_event(load("cw_alarm_metric_math_ok.json"))

    assert (firing.status, resolved.status) == (SignalStatus.FIRING, SignalStatus.RESOLVED)
    assert (
        firing.dedup_key
        == resolved.dedup_key
        == ("cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:TotalNetworkTrafficTooHigh")
    )
    assert firing.delivery_id == "2dde0eb1-528b-d2d5-9ca6-6d590caf2329"
    assert resolved.delivery_id == "7a1f3e52-91c4-0b6d-2e8a-5f0c6d3b9e14"
    assert firing.occurred_at == at("2019-10-02T17:20:48.554+00:00")
    assert resolved.occurred_at == at("2019-10-02T17:45:48.605+00:00")
    # The expression has no metricStat: the hints come from the first query that has one.
    assert (firing.hints.namespace, firing.hints.metric) == ("AWS/EC2", "NetworkIn")
    assert firing.hints.labels == {"InstanceId": "i-12345678901234567"}
    assert firing.details["alarm_type"] == resolved.details["alarm_type"] == "metric_math"
    assert firing.details["previous_state"] == "INSUFFICIENT_DATA"
    assert resolved.details["previous_state"] == "ALARM"


def test_anomaly_detection_alarm():
    signal = parse_cloudwatch_event(load("cw_alarm_anomaly_detection.json"))

    assert signal.status is SignalStatus.FIRING
    assert signal.title == "EC2 CPU Utilization Anomaly"
    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:EC2 CPU Utilization Anomaly"
    assert signal.details["alarm_type"] == "anomaly_detection"
    assert signal.details["muted_by"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:testMute"
    assert (signal.hints.namespace, signal.hints.metric) == ("AWS/EC2", "CPUUtilization")
    assert signal.occurred_at == at("2019-10-03T16:00:04.653+00:00")
    # The name is quoted in the console link: spaces and all.
    assert signal.link is not None
    assert signal.link.endswith("#alarmsV2:alarm/EC2%20CPU%20Utilization%20Anomaly")


def test_composite_alarm_with_suppressed_actions():
    signal = parse_cloudwatch_event(load("cw_alarm_composite_suppressed.json"))

    assert signal.status is SignalStatus.FIRING
    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServiceAggregatedAlarm"
    assert signal.details["alarm_type"] == "composite"
    assert signal.details["actions_suppressed_by"] == "WaitPeriod"
    assert signal.details["actions_suppressed_reason"] == "Actions suppressed by WaitPeriod"
    assert (signal.hints.namespace, signal.hints.metric, signal.hints.description) == (None, None, None)
    assert signal.hints.labels == {}
    assert signal.summary.startswith("arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh transitioned")


def test_insufficient_data_is_its_own_status():
    signal = parse_cloudwatch_event(load("cw_alarm_insufficient_data.json"))

    assert signal.status is SignalStatus.INSUFFICIENT_DATA
    assert signal.summary == "Insufficient Data: 1 datapoint was unknown."
    assert signal.details["previous_state"] == "OK"


def test_each_multi_time_series_contributor_is_its_own_incident():
    firing = parse_cloudwatch_event(load("cw_alarm_multi_time_series_contributor_alarm.json"))
    resolved = parse_cloudwatch_event(load("cw_alarm_multi_time_series_contributor_ok.json"))
    whole = parse_cloudwatch_event(load("cw_alarm_multi_time_series_alarm.json"))

    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:DynamoDBInsightsAlarm"
    assert firing.dedup_key == resolved.dedup_key == f"cloudwatch:{arn}|contributor:6d442278dba546f6"
    assert (firing.status, resolved.status) == (SignalStatus.FIRING, SignalStatus.RESOLVED)
    assert firing.delivery_id == "6d226bbc-07f0-9a31-3359-1736968f8ded"
    assert firing.title == "DynamoDBInsightsAlarm (TableName=example-dynamodb-table-name)"
    assert firing.hints.alarm_name == "DynamoDBInsightsAlarm"
    assert firing.hints.labels == {"TableName": "example-dynamodb-table-name"}
    assert firing.occurred_at == at("2025-12-01T13:42:04.919+00:00")
    assert firing.details["alarm_type"] == "multi_time_series"
    assert firing.details["contributor_id"] == "6d442278dba546f6"
    assert "previous_state" not in firing.details  # a contributor event has no previousState
    # The alarm as a whole keeps the alarm ARN as its key, marked multi_time_series for policy to see.
    assert whole.dedup_key == f"cloudwatch:{arn}"
    assert whole.summary == "6 out of 6 time series evaluated to ALARM"
    assert whole.details["alarm_type"] == "multi_time_series"
    assert set(CLOUDWATCH_DETAIL_TYPES) == {
        "CloudWatch Alarm State Change",
        "CloudWatch Alarm Contributor State Change",
    }


def test_a_contributor_without_an_id_is_keyed_by_its_attributes():
    event = load("cw_alarm_multi_time_series_contributor_alarm.json")
    del event["detail"]["alarmContributor"]["id"]
    first = parse_cloudwatch_event(event)
    event["detail"]["alarmContributor"]["attributes"] = {"TableName": "another-table"}
    second = parse_cloudwatch_event(event)

    assert first.dedup_key != second.dedup_key
    assert first.dedup_key.startswith("cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:DynamoDB")


def test_state_timestamp_falls_back_to_the_event_time():
    event = load("cw_alarm_state_change_alarm.json")
    del event["detail"]["state"]["timestamp"]

    assert parse_cloudwatch_event(event).occurred_at == datetime(2019, 10, 2, 17, 4, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update({"detail-type": "CloudWatch Alarm Configuration Change"}), "detail-type must be"),
        (lambda e: e.pop("id"), "id is required"),
        (lambda e: e.update(resources=[]), "resources must not be empty"),
        (lambda e: e.update(resources=["arn:aws:sns:us-east-1:1:topic"]), "resources[0] is not a CloudWatch alarm"),
        (lambda e: e["detail"]["state"].update(value="PANIC"), "detail.state.value must be one of ALARM, OK"),
        (lambda e: e["detail"]["state"].update(timestamp="yesterday"), "detail.state.timestamp is not a date-time"),
        (lambda e: e["detail"]["configuration"].update(metrics={}), "detail.configuration.metrics must be an array"),
        (
            lambda e: e["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"].update(dimensions=[1]),
            "detail.configuration.metrics[0].metricStat.metric.dimensions must be an object of strings",
        ),
    ],
)
def test_bad_events_say_what_and_where(change, message):
    event = load("cw_alarm_state_change_alarm.json")
    change(event)

    with pytest.raises(ParseError) as raised:
        parse_cloudwatch_event(event)
    assert message in str(raised.value)


# -- CloudWatch through SNS -----------------------------------------------------------------------------------------
def test_sns_and_eventbridge_forms_of_one_alarm_share_the_dedup_key():
    event = parse_cloudwatch_event(load("cw_alarm_state_change_alarm.json"))
    sns = sns_signal("cw_alarm_sns_server_cpu_too_high.json")

    assert sns.source is Source.CLOUDWATCH_SNS
    assert sns.dedup_key == event.dedup_key
    assert sns.delivery_id == "f1e2d3c4-b5a6-5978-8a9b-0c1d2e3f4a5b"
    assert (sns.status, sns.title, sns.occurred_at) == (event.status, event.title, event.occurred_at)
    assert sns.hints == event.hints
    assert sns.link == event.link
    assert sns.details == event.details


def test_sns_from_tokyo_with_null_description_and_unit():
    signal = sns_signal("cw_alarm_sns_tokyo_null_description.json")

    assert signal.status is SignalStatus.FIRING
    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:orders-api-5xx"
    assert signal.delivery_id == "5e3c1f7a-9b2d-5a4e-8c6f-0d1b2a3c4e5f"
    assert signal.title == "orders-api-5xx"
    assert signal.occurred_at == at("2022-04-09T21:06:48.198+00:00")
    assert signal.hints.description is None
    assert (signal.hints.namespace, signal.hints.metric) == ("AWS/ApiGateway", "5XXError")
    assert signal.hints.labels == {"ApiName": "orders-api", "Stage": "prod"}
    assert signal.details["region"] == "ap-northeast-1"
    assert signal.link == (
        "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1"
        "#alarmsV2:alarm/orders-api-5xx"
    )


def test_sns_without_alarm_arn_builds_it_from_account_region_and_name():
    signal = sns_signal("cw_alarm_sns_legacy_without_arn.json")

    assert signal.status is SignalStatus.RESOLVED
    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-test"
    assert signal.details["region"] == "us-east-1"
    assert signal.hints.labels == {"QueueName": "fault-handling-test"}


def test_sns_metric_math():
    signal = sns_signal("cw_alarm_sns_metric_math.json")

    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:TotalNetworkTrafficTooHigh"
    assert signal.details["alarm_type"] == "metric_math"
    assert (signal.hints.namespace, signal.hints.metric) == ("AWS/EC2", "NetworkIn")
    assert signal.hints.labels == {"InstanceId": "i-12345678901234567"}
    assert signal.hints.description == "[SEV2] Goes into alarm if total network traffic exceeds 10Kb"


def test_sns_composite():
    signal = sns_signal("cw_alarm_sns_composite.json")

    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServiceAggregatedAlarm"
    assert signal.details["alarm_type"] == "composite"
    assert signal.details["previous_state"] == "OK"


def test_the_original_sns_sample_and_a_decoded_message():
    sns = load("cw_alarm_sns_lambda_event_single_metric.json")["Records"][0]["Sns"]
    from_text = parse_cloudwatch_sns_message(sns["Message"], sns["MessageId"])
    from_object = parse_cloudwatch_sns_message(json.loads(sns["Message"]), sns["MessageId"])

    assert from_text == from_object
    assert from_text.dedup_key == "cloudwatch:arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE"
    assert from_text.link is None  # "REGION" is no region: no console link rather than a wrong one


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("US East (N. Virginia)", "us-east-1"),
        ("Asia Pacific (Tokyo)", "ap-northeast-1"),
        ("EU (Frankfurt)", "eu-central-1"),
        ("Europe (Frankfurt)", "eu-central-1"),
        ("EU - Ireland", "eu-west-1"),
        ("South America (São Paulo)", "sa-east-1"),
        ("AWS GovCloud (US-West)", "us-gov-west-1"),
        ("China (Ningxia)", "cn-northwest-1"),
        ("  asia pacific  (seoul) ", "ap-northeast-2"),
        ("eu-west-3", "eu-west-3"),
        ("Atlantis (Central)", None),
    ],
)
def test_region_display_names(name, code):
    assert region_code(name) == code


def test_china_alarm_without_arn_gets_the_china_partition():
    message = json.loads(load("cw_alarm_sns_legacy_without_arn.json")["Records"][0]["Sns"]["Message"])
    message["Region"] = "China (Beijing)"

    signal = parse_cloudwatch_sns_message(message, "m-1")

    assert signal.dedup_key == "cloudwatch:arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:alarm-test"
    assert signal.link == "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/alarm-test"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(Region="Atlantis (Central)"), "Message.Region 'Atlantis (Central)' is not a known AWS"),
        (lambda m: m.update(NewStateValue="alarm"), "Message.NewStateValue must be one of ALARM, OK"),
        (lambda m: m.pop("StateChangeTime"), "Message.StateChangeTime is required"),
        (lambda m: m.pop("AWSAccountId"), "Message.AWSAccountId is required"),
        (lambda m: m["Trigger"].update(Dimensions=[{"name": "QueueName"}]), "Message.Trigger.Dimensions[0] must"),
    ],
)
def test_bad_sns_messages_say_what_and_where(change, message):
    body = json.loads(load("cw_alarm_sns_legacy_without_arn.json")["Records"][0]["Sns"]["Message"])
    change(body)

    with pytest.raises(ParseError) as raised:
        parse_cloudwatch_sns_message(body, "m-1")
    assert message in str(raised.value)


def test_an_unknown_region_name_is_fine_when_the_arn_says_it():
    body = json.loads(load("cw_alarm_sns_tokyo_null_description.json")["Records"][0]["Sns"]["Message"])
    body["Region"] = "Somewhere New (Unknown)"

    assert parse_cloudwatch_sns_message(body, "m-1").details["region"] == "ap-northeast-1"


def test_sns_message_that_is_not_json():
    with pytest.raises(ParseError, match="Message is not JSON"):
        parse_cloudwatch_sns_message("ALARM: it broke", "m-1")


# -- Alertmanager ---------------------------------------------------------------------------------------------------
def test_alertmanager_firing():
    [signal] = parse_alertmanager(load("alertmanager_webhook_v4_firing.json"))

    assert signal.source is Source.ALERTMANAGER
    assert signal.status is SignalStatus.FIRING
    assert signal.dedup_key == "alertmanager:1a30ba71cca2921f"
    assert len(signal.delivery_id) == 64
    assert signal.title == "BlackBox Probe Failure: https://server.example.org"
    assert signal.summary == "Instance https://server.example.org has been down for over 5m. Job: http_checks"
    assert signal.service == "http_checks"  # no "service" label: the job
    assert signal.occurred_at == at("2023-02-06T13:08:45.828+00:00")
    assert signal.hints.labels["severity"] == "critical"
    assert signal.hints.description == signal.summary
    assert signal.link == "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0\\u0026g0.tab=1"
    assert signal.details == {
        "fingerprint": "1a30ba71cca2921f",
        "receiver": "sms",
        "external_url": "http://prometheus.example.org:9093",
    }


def test_alertmanager_resolved_occurs_at_its_end():
    [firing] = parse_alertmanager(load("alertmanager_webhook_v4_firing.json"))
    [resolved] = parse_alertmanager(load("alertmanager_webhook_v4_resolved.json"))

    assert resolved.status is SignalStatus.RESOLVED
    assert resolved.dedup_key == firing.dedup_key
    assert resolved.delivery_id != firing.delivery_id
    assert resolved.occurred_at == at("2023-02-06T13:21:15.828+00:00")


def test_alertmanager_group_gives_one_signal_per_alert_with_its_own_status():
    firing, resolved = parse_alertmanager(load("alertmanager_webhook_v4_mixed.json"))

    assert (firing.status, resolved.status) == (SignalStatus.FIRING, SignalStatus.RESOLVED)
    assert firing.dedup_key == "alertmanager:935777cfd1d7c561"
    assert resolved.dedup_key == "alertmanager:77922c71de1ab3bb"
    assert firing.occurred_at == at("2024-05-14T08:31:02.117+00:00")
    assert resolved.occurred_at == at("2024-05-14T08:36:02.117+00:00")
    assert firing.service == "checkout"
    assert firing.title == "Pod is crash looping."
    assert firing.hints.description is not None
    assert firing.hints.description.startswith("[SEV3] Pod checkout/checkout-api-7d9f8b6c5-x2k4q")
    assert firing.hints.labels["pod"] == "checkout-api-7d9f8b6c5-x2k4q"
    assert firing.details["runbook_url"].startswith("https://runbooks.prometheus-operator.dev/")


def test_alertmanager_labels_merge_over_common_labels():
    body = load("alertmanager_webhook_v4_firing.json")
    body["commonLabels"] = {"cluster": "eu-1", "severity": "warning"}

    [signal] = parse_alertmanager(body)

    assert signal.hints.labels["cluster"] == "eu-1"
    assert signal.hints.labels["severity"] == "critical"  # the alert's own label wins


def test_alertmanager_fingerprint_computed_like_alertmanager_when_missing():
    body = load("alertmanager_webhook_v4_mixed.json")
    for alert in body["alerts"]:
        del alert["fingerprint"]

    firing, resolved = parse_alertmanager(body)

    # The same keys as when Alertmanager sends its fingerprints (the sample's are Alertmanager's algorithm).
    assert firing.dedup_key == "alertmanager:935777cfd1d7c561"
    assert resolved.dedup_key == "alertmanager:77922c71de1ab3bb"
    assert labels_fingerprint({}) == "cbf29ce484222325"  # FNV-1a's offset basis: Alertmanager's empty label set


def test_alertmanager_resolved_without_end_occurs_when_received():
    body = load("alertmanager_webhook_v4_resolved.json")
    body["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"

    [signal] = parse_alertmanager(body, RECEIVED)

    assert signal.occurred_at == RECEIVED
    with pytest.raises(ParseError, match=r"alerts\[0\]\.endsAt is required for a resolved alert"):
        parse_alertmanager(body)


def test_alertmanager_nanosecond_timestamps_and_offsets():
    body = load("alertmanager_webhook_v4_firing.json")
    body["alerts"][0]["startsAt"] = "2018-08-03T09:52:26.739266876+02:00"

    [signal] = parse_alertmanager(body)

    assert signal.occurred_at == datetime(2018, 8, 3, 7, 52, 26, 739266, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.update(version="3"), 'version must be "4" (an Alertmanager webhook v4 notification)'),
        (lambda b: b.pop("version"), "it is missing"),
        (lambda b: b.update(alerts=[]), "alerts must not be empty"),
        (lambda b: b.update(alerts={}), "alerts must be an array"),
        (lambda b: b["alerts"][0].update(status="pending"), 'alerts[0].status must be "firing" or "resolved"'),
        (lambda b: b["alerts"][0].update(labels={"a": 1}), "alerts[0].labels must be an object of strings"),
        (lambda b: b["alerts"][0].update(startsAt="now"), "alerts[0].startsAt is not a date-time"),
        (lambda b: b["alerts"][0].update(startsAt="2023-02-06T13:08:45"), "alerts[0].startsAt is not a date-time"),
        (lambda b: b["alerts"][0].pop("startsAt"), "alerts[0].startsAt is required"),
        (lambda b: b["alerts"].append("x"), "alerts[1] must be an object, not a string"),
        (lambda b: b.update(commonLabels=[]), "commonLabels must be an object of strings"),
    ],
)
def test_bad_alertmanager_bodies_say_what_and_where(change, message):
    body = load("alertmanager_webhook_v4_firing.json")
    change(body)

    with pytest.raises(ParseError) as raised:
        parse_alertmanager(body)
    assert message in str(raised.value)


# -- Grafana --------------------------------------------------------------------------------------------------------
def test_grafana_firing_group():
    memory, cpu = parse_grafana(load("grafana_webhook_firing.json"))

    assert memory.source is Source.GRAFANA
    assert (memory.status, cpu.status) == (SignalStatus.FIRING, SignalStatus.FIRING)
    assert memory.dedup_key == "grafana:c6eadffa33fcdf37"
    assert cpu.dedup_key == "grafana:bc97ff14869b13e3"
    assert memory.title == "This alert was triggered for zone us-1"
    assert memory.summary == "The system has high memory usage"
    assert memory.service is None
    assert memory.occurred_at == at("2021-10-12T07:51:03.157076+00:00")
    assert memory.hints.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert memory.link == "https://play.grafana.org/alerting/1afz29v7z/edit"  # panelURL and dashboardURL are ""
    assert memory.details["runbook_url"] == "https://myrunbook.com/runbook/1234"


def test_grafana_resolved_links_the_panel():
    [resolved] = parse_grafana(load("grafana_webhook_resolved.json"))
    memory, _ = parse_grafana(load("grafana_webhook_firing.json"))

    assert resolved.status is SignalStatus.RESOLVED
    assert resolved.dedup_key == memory.dedup_key
    assert resolved.occurred_at == at("2021-10-12T08:06:03.157076+00:00")
    assert resolved.link == "https://play.grafana.org/d/a1b2c3d4e5?orgId=1&viewPanel=2"


def test_grafana_refuses_other_shapes():
    with pytest.raises(ParseError, match='version must be "1"'):
        parse_grafana(load("alertmanager_webhook_v4_firing.json"))
    with pytest.raises(ParseError, match="legacy Grafana dashboard alert"):
        parse_grafana({"evalMatches": [], "ruleId": 1, "state": "alerting", "title": "[Alerting] x"})


# -- generic --------------------------------------------------------------------------------------------------------
def test_generic_single_alert():
    [signal] = parse_generic(load("generic_single.json"), RECEIVED)

    assert signal.source is Source.GENERIC
    assert signal.status is SignalStatus.FIRING
    assert signal.dedup_key == "generic:nightly-backup"
    assert signal.delivery_id == "backup-run-4821"
    assert signal.title == "Nightly backup failed"
    assert signal.service == "billing"
    assert signal.summary == "pg_dump exited 1: No space left on device"
    assert signal.occurred_at == datetime(2026, 3, 1, 2, 10, tzinfo=UTC)
    assert signal.hints.explicit == "SEV2"
    assert signal.hints.labels == {"team": "payments", "env": "prod"}
    assert signal.link == "https://ci.example.com/jobs/4821"


def test_generic_resolved_without_title():
    [signal] = parse_generic(load("generic_resolved.json"), RECEIVED)

    assert signal.status is SignalStatus.RESOLVED
    assert signal.dedup_key == "generic:nightly-backup"
    assert signal.title == "nightly-backup"
    assert signal.occurred_at == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_generic_batch():
    signals = parse_generic(load("generic_batch.json"), RECEIVED)

    assert [s.status for s in signals] == [SignalStatus.FIRING, SignalStatus.RESOLVED, SignalStatus.FIRING]
    assert [s.dedup_key for s in signals] == [
        "generic:cert-expiry/shop.example.com",
        "generic:cert-expiry/api.example.com",
        "generic:disk/db-1",
    ]
    assert signals[0].hints.explicit == "SEV3"
    assert signals[2].occurred_at == RECEIVED  # no occurred_at: when it was received
    assert signals[2].hints.description == "[SEV2] /var/lib/postgresql 91% used"
    assert len({s.delivery_id for s in signals}) == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "x"}, "dedup_key is required"),
        ({"dedup_key": "k"}, "title is required for a firing alert"),
        ({"dedup_key": "k" * 256, "title": "x"}, "dedup_key must be 1 to 255 characters"),
        ({"dedup_key": "k", "title": "x", "severity": "P1"}, "severity must be one of SEV1, SEV2"),
        ({"dedup_key": "k", "title": "x", "status": "ok"}, 'status must be "firing" or "resolved"'),
        ({"dedup_key": "k", "title": "x", "occurred_at": "2026-03-01T02:10:00"}, "occurred_at is not a date-time"),
        ({"dedup_key": "k", "title": "x", "link": "javascript:alert(1)"}, "link must be an http(s) URL"),
        ({"dedup_key": "k", "title": "x", "severty": "SEV1"}, "severty is not a field of a generic alert"),
        ({"alerts": []}, "alerts must not be empty"),
        ({"alerts": [{"dedup_key": "k", "title": "x"}], "source": "cron"}, "unknown field 'source'"),
        (
            {
                "alerts": [
                    {"dedup_key": "a", "title": "x"},
                    {"dedup_key": "b", "title": "y"},
                    {"dedup_key": "c", "title": "z", "labels": {"team": ["a"]}},
                ]
            },
            "alerts[2].labels must be an object of strings",
        ),
        ([{"dedup_key": "k"}], "the body must be a JSON object"),
    ],
)
def test_bad_generic_bodies_say_what_and_where(body, message):
    with pytest.raises(ParseError) as raised:
        parse_generic(body, RECEIVED)
    assert message in str(raised.value)


def test_generic_bounds_title_and_summary():
    [signal] = parse_generic({"dedup_key": "k", "title": "t" * 300, "summary": "s" * 5000}, RECEIVED)

    assert len(signal.title) == 255
    assert len(signal.summary) == 4000


def test_generic_keeps_markup_as_given():
    [signal] = parse_generic({"dedup_key": "k", "title": "<b>db</b> & co"}, RECEIVED)

    assert signal.title == "<b>db</b> & co"


# -- redelivery and the registry ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "sample"),
    [
        ("alertmanager", "alertmanager_webhook_v4_mixed.json"),
        ("grafana", "grafana_webhook_firing.json"),
        ("generic", "generic_batch.json"),
    ],
)
def test_a_redelivered_webhook_gives_the_same_ids(source, sample):
    parse = PARSERS_BY_SOURCE[source]

    first = parse(load(sample), RECEIVED)
    again = parse(load(sample), datetime(2026, 3, 1, 12, 5, tzinfo=UTC))  # received later: a retry

    assert [(s.delivery_id, s.dedup_key) for s in first] == [(s.delivery_id, s.dedup_key) for s in again]


def test_redelivered_cloudwatch_gives_the_same_ids():
    assert parse_cloudwatch_event(load("cw_alarm_composite_suppressed.json")) == parse_cloudwatch_event(
        load("cw_alarm_composite_suppressed.json")
    )
    assert sns_signal("cw_alarm_sns_metric_math.json") == sns_signal("cw_alarm_sns_metric_math.json")


def test_a_re_fire_is_a_new_delivery():
    body = load("alertmanager_webhook_v4_firing.json")
    [first] = parse_alertmanager(body)
    body["alerts"][0]["startsAt"] = "2023-02-06T15:00:00Z"
    [again] = parse_alertmanager(body)

    assert again.dedup_key == first.dedup_key
    assert again.delivery_id != first.delivery_id


def test_the_registry_names_the_webhook_paths():
    assert dict(PARSERS_BY_SOURCE) == {
        "alertmanager": parse_alertmanager,
        "grafana": parse_grafana,
        "datadog": parse_datadog,
        "generic": parse_generic,
        "canary": parse_canary,
    }


def test_text_that_utf8_cannot_carry_still_parses():
    # JSON can carry a lone surrogate ("\ud800"); it must not crash links, fingerprints or hashes.
    event = load("cw_alarm_state_change_alarm.json")
    event["detail"]["alarmName"] = "cpu \ud800"
    body = load("alertmanager_webhook_v4_firing.json")
    del body["alerts"][0]["fingerprint"]
    body["alerts"][0]["labels"]["instance"] = "\udfff"

    assert parse_cloudwatch_event(event).link is not None
    assert parse_alertmanager(body)[0].dedup_key.startswith("alertmanager:")
    assert parse_generic({"dedup_key": "\ud800", "title": "\ud800"}, RECEIVED)[0].delivery_id
