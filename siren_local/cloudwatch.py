"""CloudWatch, evaluated: metrics from the functions' embedded-metric log lines and from the services, and metric
alarms that change state, run their actions and put their events, on the local time scale.

moto 5.2.5 stores metric data and alarms but never evaluates an alarm, and nothing turns a Lambda function's
embedded metric format (EMF) log line into a metric. Four adapters fill the gap, each with a canary test
(tests/local/test_cloudwatch_local.py):

- :class:`EmfLogTee`: during an invocation, a stdout line that is an EMF document (Powertools prints one per
  flush) becomes metric data, as CloudWatch Logs extracts it on AWS; the line itself is consumed (it is the
  log group's business, not the terminal's).
- :func:`lambda_invoked`: the AWS/Lambda metrics Lambda emits per invocation (Invocations, Errors, Throttles,
  Duration by FunctionName). Nothing is ever throttled locally: Throttles is a true 0.
- :class:`ServiceSampler`: AWS/States run counts (ExecutionsStarted, ExecutionsSucceeded, ExecutionsFailed,
  ExecutionsTimedOut, ExecutionsAborted by StateMachineArn) as runs start and end, and AWS/SQS
  ApproximateNumberOfMessagesVisible by QueueName once a (scaled) minute, as SQS reports it.
- :class:`AlarmEvaluator`: every metric alarm is evaluated as CloudWatch does (period, evaluation periods,
  datapoints to alarm, statistic or percentile, comparison, missing-data treatment). A change of state updates the
  alarm, publishes the alarm's SNS actions in CloudWatch's message format (JSON for programs, text for email and
  SMS subscribers), and puts the "CloudWatch Alarm State Change" event on the default bus.

Time: metric timestamps are wall-clock times, never shifted; a period of P seconds lasts P / time scale seconds
of wall-clock time, so at ``--time-scale 60`` a one-minute alarm is evaluated over the last second.

Two deliberate differences from AWS, both so that a deploy is quiet: alarms start in OK (moto's choice; on AWS
they start in INSUFFICIENT_DATA and go to OK within a minute, sending every OK action, 33 ops notifications per
deploy), and a period that began before the alarm existed and holds no data is not evaluated, rather than counted
as missing (on AWS a "missing data is breaching" alarm fires at once when created before its first datapoint).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
import logging
import math
import operator
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from siren_local import clock

log = logging.getLogger("siren.local.cloudwatch")

EVALUATOR_THREAD = "cloudwatch-alarms"
SQS_SAMPLE_PERIOD_S = 60.0  # SQS reports its queue metrics once a minute
_TERMINAL_RUN_METRICS = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}
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


def _backend(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


def record_metric(
    where: tuple[str, str],
    namespace: str,
    name: str,
    value: float,
    dimensions: dict[str, str] | None = None,
    *,
    unit: str | None = None,
    at: datetime | None = None,
) -> None:
    """Store one datapoint in the local CloudWatch of ``where`` (account, region), as PutMetricData would."""
    datum: dict[str, Any] = {
        "MetricName": name,
        "Value": float(value),
        "Dimensions": [{"Name": key, "Value": str(val)} for key, val in (dimensions or {}).items()],
        # moto keeps times as naive UTC datetimes (and compares them with naive ones)
        "Timestamp": (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None),
    }
    if unit:
        datum["Unit"] = unit
    _backend(*where).put_metric_data(namespace, [datum])


# -- embedded metric format ------------------------------------------------------------------------------------
def metrics_from_emf(document: dict[str, Any]) -> list[tuple[str, str, float, dict[str, str], str | None]]:
    """The datapoints of one EMF document: (namespace, name, value, dimensions, unit), one per value and per
    dimension set (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)."""
    found: list[tuple[str, str, float, dict[str, str], str | None]] = []
    for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
        namespace = directive["Namespace"]
        dimension_sets = directive.get("Dimensions") or [[]]
        for metric in directive.get("Metrics", []):
            raw = document.get(metric["Name"])
            values = raw if isinstance(raw, list) else [raw]
            for dimension_set in dimension_sets:
                dimensions = {key: str(document[key]) for key in dimension_set if key in document}
                for value in values:
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        found.append((namespace, metric["Name"], float(value), dimensions, metric.get("Unit")))
    return found


_invocation: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("siren_emf", default=None)


class EmfLogTee(io.TextIOBase):
    """stdout, with the EMF lines printed during an invocation turned into metrics (see the module docstring)."""

    def __init__(self, wrapped: TextIO) -> None:
        self.wrapped = wrapped
        self._partial = threading.local()

    def write(self, text: str) -> int:
        where = _invocation.get()
        if where is None:
            return self.wrapped.write(text)
        pending = getattr(self._partial, "text", "") + text
        *lines, rest = pending.split("\n")
        self._partial.text = rest
        for line in lines:
            if not self._took_as_metrics(line, where):
                self.wrapped.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.wrapped.flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.wrapped, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.wrapped.fileno()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    @staticmethod
    def _took_as_metrics(line: str, where: tuple[str, str]) -> bool:
        if not line.startswith('{"_aws"'):
            return False
        try:
            document = json.loads(line)
            at = datetime.fromtimestamp(document["_aws"]["Timestamp"] / 1000, UTC)
            for namespace, name, value, dimensions, unit in metrics_from_emf(document):
                record_metric(where, namespace, name, value, dimensions, unit=unit, at=at)
        except Exception:  # a malformed EMF line is kept as a log line, as CloudWatch Logs keeps it
            log.warning("EMF line not understood; kept as a log line: %.200s", line, exc_info=True)
            return False
        return True


@contextlib.contextmanager
def invocation_metrics(account: str, region: str) -> Iterator[None]:
    """While a handler runs: its EMF lines become metrics of ``account`` and ``region``."""
    import sys

    if not isinstance(sys.stdout, EmfLogTee):
        sys.stdout = EmfLogTee(sys.stdout)
    token = _invocation.set((account, region))
    try:
        yield
    finally:
        _invocation.reset(token)


def restore_stdout() -> None:
    import sys

    while isinstance(sys.stdout, EmfLogTee):
        sys.stdout = sys.stdout.wrapped


# -- the services' own metrics --------------------------------------------------------------------------------
def lambda_invoked(function: Any, errored: bool, duration_ms: float) -> None:
    dimensions = {"FunctionName": str(function.function_name)}
    at = datetime.now(UTC)
    where = (str(function.account_id), str(function.region))
    for name, value, unit in (
        ("Invocations", 1.0, "Count"),
        ("Errors", 1.0 if errored else 0.0, "Count"),
        ("Throttles", 0.0, "Count"),
        ("Duration", duration_ms, "Milliseconds"),
    ):
        record_metric(where, "AWS/Lambda", name, value, dimensions, unit=unit, at=at)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _epoch(timestamp: Any) -> float:
    """A datapoint's time in seconds: moto keeps what it was given (a datetime, naive meaning UTC, or a string)."""
    if isinstance(timestamp, datetime):
        return _as_utc(timestamp).timestamp()
    if isinstance(timestamp, (int, float)):
        return float(timestamp)
    return _as_utc(datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))).timestamp()


@dataclass
class ServiceSampler:
    """AWS/States and AWS/SQS metrics, read from moto's state at each evaluation tick."""

    _runs_seen: dict[str, str] = field(default_factory=dict)  # execution ARN -> last status counted
    _last_sqs_sample: float = float("-inf")

    def sample(self) -> None:
        self._sample_runs()
        now = time.monotonic()
        if now - self._last_sqs_sample >= clock.scaled(SQS_SAMPLE_PERIOD_S):
            self._last_sqs_sample = now
            self._sample_queues()

    def _sample_runs(self) -> None:
        from siren_local.stepfunctions import _executions

        for execution in _executions():
            status = getattr(getattr(execution, "exec_status", None), "value", None)
            if status is None:
                continue
            arn = execution.exec_arn
            seen = self._runs_seen.get(arn)
            if seen == status:
                continue
            where = (str(execution.account_id), str(execution.region_name))
            dimensions = {"StateMachineArn": str(execution.state_machine_arn)}
            if seen is None:
                start = _as_utc(execution.start_date) if execution.start_date else None
                record_metric(where, "AWS/States", "ExecutionsStarted", 1, dimensions, unit="Count", at=start)
            if status in _TERMINAL_RUN_METRICS:
                stop = _as_utc(execution.stop_date) if getattr(execution, "stop_date", None) else None
                record_metric(where, "AWS/States", _TERMINAL_RUN_METRICS[status], 1, dimensions, unit="Count", at=stop)
            self._runs_seen[arn] = status

    @staticmethod
    def _sample_queues() -> None:
        from moto.sqs.models import sqs_backends

        at = datetime.now(UTC)
        for account, regions in list(sqs_backends.items()):
            for region, backend in list(regions.items()):
                for queue in list(backend.queues.values()):
                    visible = len([message for message in list(queue._messages) if message.visible])
                    record_metric(
                        (account, region),
                        "AWS/SQS",
                        "ApproximateNumberOfMessagesVisible",
                        visible,
                        {"QueueName": queue.name},
                        unit="Count",
                        at=at,
                    )


# -- alarm evaluation -------------------------------------------------------------------------------------------
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
    created = _as_utc(alarm.configuration_updated_timestamp).timestamp()
    compare = _COMPARISONS[alarm.comparison_operator]
    treatment = alarm.treat_missing_data or "missing"
    values: list[float | None] = []  # newest first
    for index in range(periods):
        end = now - index * period
        start = end - period
        inside = [v for datum in data if start <= _epoch(datum.timestamp) < end for v in _datum_values(datum)]
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
        "AlarmConfigurationUpdatedTimestamp": _cloudwatch_time(_as_utc(alarm.configuration_updated_timestamp)),
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
        from siren_local.alarms import alarm_state_change_event

        self.transitions += 1
        previous = {
            "reason": alarm.state_reason,
            "timestamp": _cloudwatch_time(_as_utc(alarm.state_updated_timestamp)),
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
