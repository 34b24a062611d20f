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
- :class:`AlarmEvaluator` (cloudwatch_alarms.py): every metric alarm is evaluated as CloudWatch does (period,
  evaluation periods, datapoints to alarm, statistic or percentile, comparison, missing-data treatment). A change
  of state updates the alarm, publishes the alarm's SNS actions in CloudWatch's message format (JSON for programs,
  text for email and SMS subscribers), and puts the "CloudWatch Alarm State Change" event on the default bus.

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
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from siren_local import clock

log = logging.getLogger("siren.local.cloudwatch")

SQS_SAMPLE_PERIOD_S = 60.0  # SQS reports its queue metrics once a minute
_TERMINAL_RUN_METRICS = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
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


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def epoch_seconds(timestamp: Any) -> float:
    """A datapoint's time in seconds: moto keeps what it was given (a datetime, naive meaning UTC, or a string)."""
    if isinstance(timestamp, datetime):
        return as_utc(timestamp).timestamp()
    if isinstance(timestamp, (int, float)):
        return float(timestamp)
    return as_utc(datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))).timestamp()


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
                start = as_utc(execution.start_date) if execution.start_date else None
                record_metric(where, "AWS/States", "ExecutionsStarted", 1, dimensions, unit="Count", at=start)
            if status in _TERMINAL_RUN_METRICS:
                stop = as_utc(execution.stop_date) if getattr(execution, "stop_date", None) else None
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
