"""Canaries of the local CloudWatch (siren_local/cloudwatch.py, cloudwatch_alarms.py): one per adapter, each on a
bare runtime, and the alarm evaluator's arithmetic on its own.

GIVEN a bare embedded local AWS (time scale 600: a one-minute period lasts 0.1 s of wall-clock time)
WHEN something happens that CloudWatch would measure
THEN the metric is there, and an alarm on it changes state, notifies its topic's people and puts its event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from siren_local import clock
from siren_local.cloudwatch import metrics_from_emf
from siren_local.cloudwatch_alarms import evaluate
from tests.local.test_adapter_canaries import create_function
from tests.support import wait_for

POWERTOOLS_HANDLER = """
from aws_lambda_powertools import Metrics
metrics = Metrics(namespace="Canary", service="canary")

@metrics.log_metrics
def handler(event, context):
    print("an ordinary log line")
    metrics.add_metric(name="Widgets", unit="Count", value=event["widgets"])
    return {"ok": True}
"""


def _sum(runtime: Any, namespace: str, name: str, dimensions: dict[str, str]) -> float:
    now = datetime.now(UTC)
    points = runtime.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(point["Sum"] for point in points)


def test_powertools_emf_lines_become_metrics_and_leave_the_log(bare_inprocess, capfd):
    create_function(bare_inprocess, "emf-writer", source=POWERTOOLS_HANDLER)
    for widgets in (3, 4):
        bare_inprocess.client("lambda").invoke(FunctionName="emf-writer", Payload=json.dumps({"widgets": widgets}))
    # Summed over whatever dimensions each document carried: Powertools keeps its dimension set per process, and in
    # this process (several functions' code, as it is not on AWS) an earlier test's may be on the first document.
    listed = bare_inprocess.client("cloudwatch").list_metrics(Namespace="Canary", MetricName="Widgets")["Metrics"]
    assert (
        sum(_sum(bare_inprocess, "Canary", "Widgets", {d["Name"]: d["Value"] for d in m["Dimensions"]}) for m in listed)
        == 7
    )
    printed = capfd.readouterr().out
    assert "an ordinary log line" in printed
    assert '"_aws"' not in printed


def test_emf_documents_with_several_values_and_dimension_sets():
    document = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["service"], ["service", "kind"]], "Metrics": [{"Name": "M"}]}
            ],
        },
        "service": "s",
        "kind": "k",
        "M": [1, 2],
    }
    assert metrics_from_emf(document) == [
        ("N", "M", 1.0, {"service": "s"}, None),
        ("N", "M", 2.0, {"service": "s"}, None),
        ("N", "M", 1.0, {"service": "s", "kind": "k"}, None),
        ("N", "M", 2.0, {"service": "s", "kind": "k"}, None),
    ]


def test_lambda_emits_invocations_errors_and_throttles(bare_inprocess):
    create_function(bare_inprocess, "sometimes-fails", handler="canary_handler.boom")
    client = bare_inprocess.client("lambda")
    for _ in range(2):
        client.invoke(FunctionName="sometimes-fails", Payload=b"{}")
    dimensions = {"FunctionName": "sometimes-fails"}
    assert _sum(bare_inprocess, "AWS/Lambda", "Invocations", dimensions) == 2
    assert _sum(bare_inprocess, "AWS/Lambda", "Errors", dimensions) == 2
    assert _sum(bare_inprocess, "AWS/Lambda", "Throttles", dimensions) == 0


def test_step_functions_runs_and_queue_depth_are_sampled(bare_inprocess):
    sfn = bare_inprocess.client("stepfunctions")
    role = bare_inprocess.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    definition = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E", "Cause": "c"}}}
    machine = sfn.create_state_machine(name="fails", definition=json.dumps(definition), roleArn=role)
    run = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=run)["status"] == "FAILED", timeout=30)
    queue = bare_inprocess.client("sqs").create_queue(QueueName="waiting")["QueueUrl"]
    bare_inprocess.client("sqs").send_message(QueueUrl=queue, MessageBody="x")
    bare_inprocess.alarms.sampler._last_sqs_sample = float("-inf")  # the next tick samples queues at once

    bare_inprocess.alarms.evaluate_now()

    runs = {"StateMachineArn": machine["stateMachineArn"]}
    assert _sum(bare_inprocess, "AWS/States", "ExecutionsStarted", runs) == 1
    assert _sum(bare_inprocess, "AWS/States", "ExecutionsFailed", runs) == 1
    assert _sum(bare_inprocess, "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "waiting"}) >= 1
    bare_inprocess.alarms.evaluate_now()  # sampled again: a run is counted once
    assert _sum(bare_inprocess, "AWS/States", "ExecutionsFailed", runs) == 1


def test_a_breached_alarm_notifies_its_topics_people_and_puts_its_event(bare_inprocess):
    sns = bare_inprocess.client("sns")
    topic = sns.create_topic(Name="ops")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+14255550100")
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    sqs = bare_inprocess.client("sqs")
    queue = sqs.create_queue(QueueName="alarm-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = bare_inprocess.client("events")
    events.put_rule(Name="alarms", EventPattern=json.dumps({"source": ["aws.cloudwatch"]}))
    events.put_targets(Rule="alarms", Targets=[{"Id": "q", "Arn": queue_arn}])
    cloudwatch = bare_inprocess.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="Orders-Failing",
        AlarmDescription="Orders fail: page the team",
        Namespace="Shop",
        MetricName="OrderFailures",
        Dimensions=[{"Name": "Region", "Value": "eu"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )

    region = [{"Name": "Region", "Value": "eu"}]
    cloudwatch.put_metric_data(
        Namespace="Shop", MetricData=[{"MetricName": "OrderFailures", "Value": 6, "Dimensions": region}]
    )
    cloudwatch.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "OrderFailures", "Value": 60}])

    wait_for(lambda: any(m.channel == "sms" and m.body.startswith("ALARM") for m in bare_inprocess.outbox.messages()))
    sent = [m for m in bare_inprocess.outbox.messages() if m.via == "sns-topic"]
    sms = next(m for m in sent if m.channel == "sms")
    email = next(m for m in sent if m.channel == "email")
    assert sms.to == "+14255550100" and sms.body == 'ALARM: "Orders-Failing" in US East (N. Virginia)'
    assert email.to == "ops@example.com" and email.subject == sms.body
    assert "Orders fail: page the team" in email.body and "OK -> ALARM" in email.body
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    event = json.loads(received[0]["Body"])
    assert event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["detail"]["alarmName"] == "Orders-Failing"
    assert event["detail"]["state"]["value"] == "ALARM"
    assert event["detail"]["previousState"]["value"] == "OK"
    # With no more data (missing is not breaching) the alarm goes back to OK and says so.
    wait_for(lambda: any(m.channel == "sms" and m.body.startswith("OK") for m in bare_inprocess.outbox.messages()))
    assert cloudwatch.describe_alarms(AlarmNames=["Orders-Failing"])["MetricAlarms"][0]["StateValue"] == "OK"


# -- the evaluator's arithmetic ------------------------------------------------------------------------------
CREATED = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def alarm(**overrides: Any) -> SimpleNamespace:
    values: dict[str, Any] = dict(
        period=60,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        threshold=10.0,
        statistic="Sum",
        extended_statistic=None,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data=None,
        configuration_updated_timestamp=CREATED,
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def point(minutes_after_creation: float, value: float) -> SimpleNamespace:
    return SimpleNamespace(timestamp=CREATED + timedelta(minutes=minutes_after_creation), value=value)


@pytest.fixture
def real_time():
    """Time scale 1: a period of 60 s is 60 s of the timestamps below."""
    before = clock.time_scale()
    clock.set_time_scale(1)
    yield
    clock.set_time_scale(before)


NOW = (CREATED + timedelta(minutes=10)).timestamp()  # periods: [7, 8), [8, 9), [9, 10) minutes after creation


@pytest.mark.usefixtures("real_time")
@pytest.mark.parametrize(
    ("data", "treatment", "expected"),
    [
        ([point(9.5, 12), point(8.5, 11)], None, "ALARM"),  # 2 of 3 breaching
        ([point(9.5, 12), point(8.5, 1), point(7.5, 1)], None, "OK"),  # 1 of 3
        ([point(9.5, 5), point(9.6, 5), point(8.5, 10)], None, "ALARM"),  # Sum within a period
        ([point(9.5, 12)], None, "OK"),  # two periods missing: evaluated on the one present
        ([], None, "INSUFFICIENT_DATA"),
        ([], "notBreaching", "OK"),
        ([], "breaching", "ALARM"),
        ([], "ignore", None),
        ([point(9.5, 12)], "breaching", "ALARM"),  # 1 breaching + 2 missing breaching
        ([point(6.5, 50)], None, "INSUFFICIENT_DATA"),  # before the evaluated periods
        ([point(10.5, 50)], None, "INSUFFICIENT_DATA"),  # in the future
    ],
)
def test_m_of_n_statistic_and_missing_data(data, treatment, expected):
    result = evaluate(alarm(treat_missing_data=treatment), data, NOW)
    assert (result.state if result else None) == expected


@pytest.mark.usefixtures("real_time")
def test_statistics_comparisons_and_percentiles():
    data = [point(9.1, 1), point(9.2, 2), point(9.3, 30)]
    one_period = {"evaluation_periods": 1, "datapoints_to_alarm": 1}
    assert evaluate(alarm(statistic="Average", **one_period), data, NOW).state == "ALARM"  # 11
    assert evaluate(alarm(statistic="Maximum", threshold=31, **one_period), data, NOW).state == "OK"
    assert (
        evaluate(
            alarm(statistic="Minimum", comparison_operator="LessThanThreshold", threshold=2, **one_period), data, NOW
        ).state
        == "ALARM"
    )
    assert (
        evaluate(
            alarm(statistic="SampleCount", threshold=3, comparison_operator="GreaterThanThreshold", **one_period),
            data,
            NOW,
        ).state
        == "OK"
    )
    assert (
        evaluate(
            alarm(
                statistic=None,
                extended_statistic="p50",
                threshold=2,
                comparison_operator="LessThanOrEqualToThreshold",
                **one_period,
            ),
            data,
            NOW,
        ).state
        == "ALARM"
    )


@pytest.mark.usefixtures("real_time")
def test_periods_before_the_alarm_existed_are_not_counted_as_missing():
    young = alarm(
        configuration_updated_timestamp=CREATED + timedelta(minutes=9, seconds=30), treat_missing_data="breaching"
    )
    assert evaluate(young, [], NOW) is None  # no whole period since it was created: nothing to say yet
    assert evaluate(young, [], NOW + 60).state == "OK"  # one whole period, missing: 1 breaching of 2 needed
    assert evaluate(young, [], NOW + 120).state == "ALARM"  # two missing periods, both after creation


def test_time_scale_shortens_periods():
    before = clock.time_scale()
    clock.set_time_scale(60)  # a 60-second period lasts one second
    try:
        data = [SimpleNamespace(timestamp=datetime.fromtimestamp(NOW - 0.5, UTC), value=12.0)] * 2
        assert evaluate(alarm(evaluation_periods=1, datapoints_to_alarm=1), data, NOW).state == "ALARM"
        assert evaluate(alarm(evaluation_periods=1, datapoints_to_alarm=1), data, NOW + 1).state == "INSUFFICIENT_DATA"
    finally:
        clock.set_time_scale(before)
