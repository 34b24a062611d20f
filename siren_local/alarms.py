"""Real-format CloudWatch alarm events for ``siren local fire-alarm``.

``cloudwatch.set_alarm_state`` in moto emits no event, so the runtime records the transition in moto's
CloudWatch (so the previous state is known) and puts the "CloudWatch Alarm State Change" event that
CloudWatch would put on the default bus.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
LOCAL_NAMESPACE = "Siren/Local"


def _cloudwatch_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def alarm_state_change_event(
    *,
    alarm: dict[str, Any],
    account: str,
    region: str,
    previous: dict[str, str],
    state: str,
    reason: str,
    at: datetime,
) -> dict[str, Any]:
    """The event CloudWatch puts on the default bus when ``alarm`` moves from ``previous`` to ``state``."""
    metric: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm["AlarmArn"])),
        "metricStat": {
            "metric": {
                "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
                "name": alarm.get("MetricName"),
                "namespace": alarm.get("Namespace"),
            },
            "period": alarm.get("Period", 60),
            "stat": alarm.get("Statistic", "Average"),
        },
        "returnData": True,
    }
    configuration: dict[str, Any] = {"metrics": [metric]}
    if alarm.get("AlarmDescription"):
        configuration["description"] = alarm["AlarmDescription"]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [alarm["AlarmArn"]],
        "detail": {
            "alarmName": alarm["AlarmName"],
            "configuration": configuration,
            "previousState": previous,
            "state": {
                "reason": reason,
                "reasonData": json.dumps({"version": "1.0", "queryDate": _cloudwatch_timestamp(at)}),
                "timestamp": _cloudwatch_timestamp(at),
                "value": state,
            },
        },
    }


def fire_alarm(clients: Any, name: str, state: str, reason: str | None, description: str | None) -> dict[str, Any]:
    """Move alarm ``name`` (created on first use) to ``state`` and put the event; returns the event put.

    Like CloudWatch, a "transition" to the state the alarm is already in emits nothing (returns an empty dict).
    """
    if state not in ALARM_STATES:
        raise ValueError(f"unknown alarm state {state!r}: use one of {', '.join(ALARM_STATES)}")
    cloudwatch = clients("cloudwatch")
    found = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    if not found or (description is not None and found[0].get("AlarmDescription") != description):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=description
            if description is not None
            else (found[0].get("AlarmDescription", "") if found else f"Local alarm {name}"),
            Namespace=LOCAL_NAMESPACE,
            MetricName=name,
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            # Moved by hand: with no datapoints of its metric, the local alarm evaluator leaves its state alone
            # (a datapoint put with `siren local put-metric` still moves it, as on AWS).
            TreatMissingData="ignore",
        )
        if not found:
            # A new alarm starts in INSUFFICIENT_DATA on AWS (moto starts it in OK).
            cloudwatch.set_alarm_state(
                AlarmName=name,
                StateValue="INSUFFICIENT_DATA",
                StateReason="Unchecked: Initial alarm creation",
            )
        found = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    alarm = found[0]
    previous = {
        "reason": alarm.get("StateReason", "Unchecked: Initial alarm creation"),
        "timestamp": _cloudwatch_timestamp(alarm.get("StateUpdatedTimestamp", datetime.now(UTC))),
        "value": alarm.get("StateValue", "INSUFFICIENT_DATA"),
    }
    if previous["value"] == state:
        return {}
    now = datetime.now(UTC)
    reason = reason or f"Threshold Crossed: set to {state} by siren local fire-alarm"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
    account = clients("sts").get_caller_identity()["Account"]
    event = alarm_state_change_event(
        alarm=alarm,
        account=account,
        region=cloudwatch.meta.region_name,
        previous=previous,
        state=state,
        reason=reason,
        at=now,
    )
    response = clients("events").put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
                "Time": now,
            }
        ]
    )
    event["id"] = response["Entries"][0].get("EventId", event["id"])
    return event
