"""CloudWatch metric alarms, evaluated as CloudWatch does on the local time scale (the overview, and the two
deliberate differences from AWS, are in cloudwatch.py): a change of state updates the alarm, publishes its SNS
actions in CloudWatch's message format and puts the "CloudWatch Alarm State Change" event on the default bus."""

from __future__ import annotations

import json
import logging
import math
import operator
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from siren_local import clock
from siren_local.alarms import alarm_state_change_event
from siren_local.cloudwatch import ServiceSampler, as_utc, epoch_seconds

log = logging.getLogger("siren.local.cloudwatch")

EVALUATOR_THREAD = "cloudwatch-alarms"
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}


def _statistic(values: list[float], alarm: Any) -> float:
    extended = getattr(alarm, "extended_statistic", None)
    if extended and extended.startswith("p"):
        ordered = sorted(values)
        rank = max(0, math.ceil(float(extended[1:]) / 100 * len(ordered)) - 1)
        return ordered[rank]
    statistic = alarm.statistic
    if statistic == "Sum":
        return sum(values)
    if statistic == "Maximum":
        return max(values)
    if statistic == "Minimum":
        return min(values)
    if statistic == "SampleCount":
        return float(len(values))
    return sum(values) / len(values)  # Average


def _datum_values(datum: Any) -> list[float]:
    if hasattr(datum, "value"):
        return [float(datum.value)]
    # A statistic set (PutMetricData StatisticValues): its mean, as many times as it has samples, keeps Sum,
    # Average and SampleCount right; Minimum and Maximum are approximated by the mean.
    count = max(1, int(datum.sample_count))
    return [float(datum.sum) / count] * count


@dataclass(frozen=True)
class Evaluation:
    state: str
    reason: str
    reason_data: dict[str, Any]


def evaluate(alarm: Any, data: list[Any], now: float, shortest_period: float = 0.0) -> Evaluation | None:
    """The state ``alarm`` should be in at wall-clock time ``now`` given its metric's ``data``; None to leave it.

    Periods end at ``now`` (the last ``evaluation_periods`` of them). A period with no datapoint is missing and
    treated as the alarm says (missing: INSUFFICIENT_DATA when every period is missing; breaching; notBreaching;
    ignore: the state stays); a missing period that began before the alarm existed is not evaluated at all.
    ``shortest_period``: wall-clock seconds a period lasts at least (the evaluator's tick: at high time scales a
    period shorter than the time between two evaluations would let a datapoint fall between them).
    """
    period = max(clock.scaled(float(alarm.period)), shortest_period)
    periods = int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or periods)
    created = as_utc(alarm.configuration_updated_timestamp).timestamp()
    compare = _COMPARISONS[alarm.comparison_operator]
    treatment = alarm.treat_missing_data or "missing"
    values: list[float | None] = []  # newest first
    for index in range(periods):
        end = now - index * period
        start = end - period
        inside = [v for datum in data if start <= epoch_seconds(datum.timestamp) < end for v in _datum_values(datum)]
        if inside:
            values.append(_statistic(inside, alarm))
        elif start >= created:
            values.append(None)
    present = [value for value in values if value is not None]
    if not values or (not present and treatment in ("ignore",)):
        return None
    if not present and treatment == "missing":
        return Evaluation(
            "INSUFFICIENT_DATA",
            f"Insufficient Data: {len(values)} datapoints were unknown.",
            {"version": "1.0", "evaluatedDatapoints": []},
        )
    if treatment == "breaching":
        breaching = [value is None or compare(value, alarm.threshold) for value in values]
    elif treatment == "notBreaching":
        breaching = [value is not None and compare(value, alarm.threshold) for value in values]
    else:
        breaching = [compare(value, alarm.threshold) for value in present]
    shown = ", ".join("missing" if value is None else f"{value:g}" for value in values)
    reason_data = {
        "version": "1.0",
        "statistic": alarm.statistic or alarm.extended_statistic,
        "period": int(alarm.period),
        "recentDatapoints": [value for value in values if value is not None],
        "threshold": alarm.threshold,
    }
    if sum(breaching) >= needed:
        reason = (
            f"Threshold Crossed: {sum(breaching)} out of the last {len(breaching)} datapoints [{shown}] "
            f"were {alarm.comparison_operator} the threshold ({alarm.threshold:g}) (minimum {needed} "
            "datapoints for OK -> ALARM transition)."
        )
        return Evaluation("ALARM", reason, reason_data)
    reason = (
        f"Threshold Crossed: {sum(breaching)} out of the last {len(breaching)} datapoints [{shown}] "
        f"were {alarm.comparison_operator} the threshold ({alarm.threshold:g}) (minimum {needed} datapoints "
        "for ALARM -> OK transition)."
    )
    return Evaluation("OK", reason, reason_data)


def _alarm_description(alarm: Any) -> dict[str, Any]:
    """The alarm as DescribeAlarms shows it (what :func:`siren_local.alarms.alarm_state_change_event` reads)."""
    return {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "AlarmDescription": alarm.description,
        "Namespace": alarm.namespace,
        "MetricName": alarm.metric_name,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
        "Period": alarm.period,
        "Statistic": alarm.statistic or alarm.extended_statistic,
    }


def _cloudwatch_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def sns_notification(alarm: Any, account: str, old_state: str, at: datetime) -> tuple[str, str]:
    """CloudWatch's SNS alarm notification: (subject, message with one body per protocol, MessageStructure json).
    Programs (Lambda, SQS, HTTP) get the JSON document; email and SMS subscribers get text."""
    region_name = _REGION_NAMES.get(alarm.region_name, alarm.region_name)
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_name}'[:100]
    document = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _cloudwatch_time(as_utc(alarm.configuration_updated_timestamp)),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _cloudwatch_time(at),
        "Region": region_name,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
            "Statistic": (alarm.statistic or "").upper() or None,
            "ExtendedStatistic": alarm.extended_statistic,
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    email = (
        f'You are receiving this email because your Amazon CloudWatch Alarm "{alarm.name}" in the {region_name} '
        f'region has entered the {alarm.state_value} state, because "{alarm.state_reason}" at '
        f'"{at.strftime("%A %d %B, %Y %H:%M:%S UTC")}".\n\n'
        f"Alarm Details:\n- Name: {alarm.name}\n- Description: {alarm.description}\n"
        f"- State Change: {old_state} -> {alarm.state_value}\n- Reason for State Change: {alarm.state_reason}\n"
        f"- Timestamp: {at.strftime('%A %d %B, %Y %H:%M:%S UTC')}\n- AWS Account: {account}\n"
        f"- Alarm Arn: {alarm.alarm_arn}\n"
    )
    message = json.dumps({"default": json.dumps(document), "email": email, "sms": subject})
    return subject, message


@dataclass
class AlarmEvaluator:
    """A thread that evaluates every metric alarm of every account and region at each tick (see module docs)."""

    sampler: ServiceSampler = field(default_factory=ServiceSampler)
    evaluations: int = 0  # alarm evaluations so far (bench and tests count them)
    transitions: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _indexed_backend: dict[int, Any] = field(default_factory=dict)
    _indexed_count: dict[int, int] = field(default_factory=dict)
    _by_metric: dict[int, dict[tuple[str, str], list[tuple[list[tuple[str, str]], Any]]]] = field(default_factory=dict)

    def tick_seconds(self) -> float:
        """Wall-clock seconds between evaluations: 10 AWS seconds, between 0.5 s and 1 s (a period is never shorter
        than a tick: see :func:`evaluate`)."""
        return min(1.0, max(0.5, clock.scaled(10.0)))

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=EVALUATOR_THREAD, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def threads(self) -> list[threading.Thread]:
        return [self._thread] if self._thread is not None and self._thread.is_alive() else []

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds()):
            try:
                self.evaluate_now()
            except Exception:  # one bad tick must not end alarm evaluation for the runtime's life
                log.exception("alarm evaluation failed; trying again next tick")

    def evaluate_now(self) -> list[tuple[str, str]]:
        """Sample the services and evaluate every alarm once; returns the (alarm, new state) transitions."""
        from moto.cloudwatch.models import cloudwatch_backends

        with self._lock:
            self.sampler.sample()
            changed: list[tuple[str, str]] = []
            now = time.time()
            for account, regions in list(cloudwatch_backends.items()):
                for region, backend in list(regions.items()):
                    alarms = [alarm for alarm in list(backend.alarms.values()) if alarm.metric_name and not alarm.rule]
                    if not alarms:
                        continue
                    by_metric = self._index(backend)
                    for alarm in alarms:
                        self.evaluations += 1
                        wanted = sorted((d.name, d.value) for d in alarm.dimensions)
                        data = [
                            datum
                            for dimensions, datum in by_metric.get((alarm.namespace, alarm.metric_name), [])
                            if dimensions == wanted
                        ]
                        result = evaluate(alarm, data, now, self.tick_seconds())
                        if result is not None and result.state != alarm.state_value:
                            self._transition(account, region, alarm, result)
                            changed.append((alarm.name, result.state))
            return changed

    def _index(self, backend: Any) -> dict[tuple[str, str], list[tuple[list[tuple[str, str]], Any]]]:
        """The backend's datapoints by (namespace, name), with their sorted dimensions; only the datapoints put since
        the last tick are read (moto's list only grows, and a new backend after a reset starts a new index)."""
        key = id(backend)
        if self._indexed_backend.get(key) is not backend:
            self._indexed_backend[key], self._indexed_count[key], self._by_metric[key] = backend, 0, {}
        data = backend.metric_data
        index = self._by_metric[key]
        for datum in data[self._indexed_count[key] : len(data)]:
            dimensions = sorted((d.name, d.value) for d in datum.dimensions)
            index.setdefault((datum.namespace, datum.name), []).append((dimensions, datum))
        self._indexed_count[key] = len(data)
        return index

    def _transition(self, account: str, region: str, alarm: Any, result: Evaluation) -> None:
        self.transitions += 1
        previous = {
            "reason": alarm.state_reason,
            "timestamp": _cloudwatch_time(as_utc(alarm.state_updated_timestamp)),
            "value": alarm.state_value,
        }
        alarm.update_state(result.reason, json.dumps(result.reason_data), result.state)
        at = datetime.now(UTC)
        log.warning("alarm %s: %s -> %s (%s)", alarm.name, previous["value"], result.state, result.reason)
        if alarm.actions_enabled:
            actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions}.get(
                result.state, alarm.insufficient_data_actions
            )
            subject, message = sns_notification(alarm, account, previous["value"], at)
            for action in actions:
                self._run_action(action, subject, message)
        event = alarm_state_change_event(
            alarm=_alarm_description(alarm),
            account=account,
            region=region,
            previous=previous,
            state=result.state,
            reason=result.reason,
            at=at,
        )
        from moto.events.models import events_backends

        events_backends[account][region].put_events(
            [
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                    "Time": at.timestamp(),
                    "EventBusName": "default",
                }
            ]
        )

    @staticmethod
    def _run_action(action: str, subject: str, message: str) -> None:
        if not action.startswith("arn:aws:sns:"):
            log.warning("alarm action %s is not an SNS topic: not run locally", action)
            return
        from moto.sns.models import sns_backends

        _, _, _, region, account, _ = action.split(":", 5)
        try:
            sns_backends[account][region].publish(message, arn=action, subject=subject, message_structure="json")
        except Exception:
            # CloudWatch records a failed action in the alarm's history and moves on; so does this.
            log.exception("alarm action %s failed", action)
