"""CloudWatch alarms, the three ways they reach Siren: EventBridge state-change events, alarm actions through SNS,
and alarm actions that invoke Siren's function directly (Lambda alarm actions, the ``alarmData`` payload).

Every alarm family is handled: metric alarms, metric math, anomaly detection (an ANOMALY_DETECTION_BAND
expression), composite alarms (an alarm rule; actions possibly suppressed), and Metrics Insights alarms on several
time series, whose every time series ("contributor") changes state on its own.

EventBridge detail-types (the rule must match both; see :data:`DETAIL_TYPES`):

- "CloudWatch Alarm State Change": an alarm changed state. For a multi-time-series alarm this is the alarm as a
  whole ("6 out of 6 time series evaluated to ALARM").
- "CloudWatch Alarm Contributor State Change": one contributor of a multi-time-series alarm moved to ALARM or OK.
  Its ``detail.alarmContributor`` has the contributor's ``id`` and ``attributes`` (the series' dimensions); it has
  no ``previousState``.

Keys. dedup_key is "cloudwatch:" + the alarm ARN for an alarm, whichever way it came (EventBridge ``resources[0]``,
SNS ``AlarmArn``, a Lambda action's ``alarmArn``), so one alarm wired several ways is one incident. A contributor is
its own incident: "cloudwatch:" + alarm ARN + "|contributor:" + the contributor's id (CloudWatch's id of that time
series; a hash of its attributes if a sender leaves the id out). delivery_id is the EventBridge event id, the SNS
MessageId, or for a Lambda action (which has no id) a hash of the alarm ARN, its new state and the state's time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

from siren.domain.parsers._common import (
    MAX_SUMMARY,
    MAX_TITLE,
    decode_json,
    optional_timestamp,
    stable_hash,
    timestamp,
    truncate,
)
from siren.domain.signals import ParseError, SeverityHints, Signal, SignalStatus, Source
from siren.domain.validation import (
    describe,
    mapping,
    optional_mapping,
    optional_str,
    optional_string_map,
    quoted,
    required_str,
    sequence,
    string_map,
    where_of,
)

ALARM_STATE_CHANGE: Final = "CloudWatch Alarm State Change"
CONTRIBUTOR_STATE_CHANGE: Final = "CloudWatch Alarm Contributor State Change"
# What the EventBridge rule on the default bus must match (with source "aws.cloudwatch").
DETAIL_TYPES: Final = (ALARM_STATE_CHANGE, CONTRIBUTOR_STATE_CHANGE)

ALARM_TYPES: Final = ("metric", "metric_math", "anomaly_detection", "composite", "multi_time_series")
CONTRIBUTOR_SEPARATOR: Final = "|contributor:"
MAX_ARN: Final = 1600
MAX_ID: Final = 1024

_STATES: Final = {
    "ALARM": SignalStatus.FIRING,
    "OK": SignalStatus.RESOLVED,
    "INSUFFICIENT_DATA": SignalStatus.INSUFFICIENT_DATA,
}
_REGION_CODE: Final = re.compile(r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}", re.ASCII)
_ANOMALY_BAND: Final = re.compile(r"\bANOMALY_DETECTION_BAND\s*\(", re.IGNORECASE)
_GROUPED_QUERY: Final = re.compile(r"^\s*SELECT\b.*\bGROUP\s+BY\b", re.IGNORECASE | re.DOTALL)

# The "Region" of an SNS alarm notification is the region's display name. Current names (botocore's endpoints
# data), then the older spellings CloudWatch has used and still uses in places: "EU (Ireland)" for "Europe
# (Ireland)", and the first style "US - N. Virginia".
_REGION_NAMES: Final = {
    "af-south-1": ("Africa (Cape Town)",),
    "ap-east-1": ("Asia Pacific (Hong Kong)",),
    "ap-east-2": ("Asia Pacific (Taipei)",),
    "ap-northeast-1": ("Asia Pacific (Tokyo)", "Asia Pacific - Tokyo"),
    "ap-northeast-2": ("Asia Pacific (Seoul)",),
    "ap-northeast-3": ("Asia Pacific (Osaka)", "Asia Pacific (Osaka-Local)"),
    "ap-south-1": ("Asia Pacific (Mumbai)",),
    "ap-south-2": ("Asia Pacific (Hyderabad)",),
    "ap-southeast-1": ("Asia Pacific (Singapore)", "Asia Pacific - Singapore"),
    "ap-southeast-2": ("Asia Pacific (Sydney)", "Asia Pacific - Sydney"),
    "ap-southeast-3": ("Asia Pacific (Jakarta)",),
    "ap-southeast-4": ("Asia Pacific (Melbourne)",),
    "ap-southeast-5": ("Asia Pacific (Malaysia)",),
    "ap-southeast-6": ("Asia Pacific (New Zealand)",),
    "ap-southeast-7": ("Asia Pacific (Thailand)",),
    "ca-central-1": ("Canada (Central)",),
    "ca-west-1": ("Canada West (Calgary)",),
    "eu-central-1": ("Europe (Frankfurt)", "EU (Frankfurt)"),
    "eu-central-2": ("Europe (Zurich)", "EU (Zurich)"),
    "eu-north-1": ("Europe (Stockholm)", "EU (Stockholm)"),
    "eu-south-1": ("Europe (Milan)", "EU (Milan)"),
    "eu-south-2": ("Europe (Spain)", "EU (Spain)"),
    "eu-west-1": ("Europe (Ireland)", "EU (Ireland)", "EU - Ireland"),
    "eu-west-2": ("Europe (London)", "EU (London)"),
    "eu-west-3": ("Europe (Paris)", "EU (Paris)"),
    "il-central-1": ("Israel (Tel Aviv)",),
    "me-central-1": ("Middle East (UAE)",),
    "me-south-1": ("Middle East (Bahrain)",),
    "mx-central-1": ("Mexico (Central)",),
    "sa-east-1": ("South America (Sao Paulo)", "South America (São Paulo)", "South America - Sao Paulo"),
    "us-east-1": ("US East (N. Virginia)", "US - N. Virginia"),
    "us-east-2": ("US East (Ohio)",),
    "us-west-1": ("US West (N. California)", "US - N. California"),
    "us-west-2": ("US West (Oregon)", "US - Oregon"),
    "cn-north-1": ("China (Beijing)",),
    "cn-northwest-1": ("China (Ningxia)",),
    "us-gov-east-1": ("AWS GovCloud (US-East)",),
    "us-gov-west-1": ("AWS GovCloud (US-West)", "AWS GovCloud (US)"),
    "us-iso-east-1": ("US ISO East",),
    "us-iso-west-1": ("US ISO West",),
    "us-isob-east-1": ("US ISOB East (Ohio)",),
    "us-isob-west-1": ("US ISOB West",),
    "eu-isoe-west-1": ("EU ISOE West",),
    "us-isof-east-1": ("US ISOF East",),
    "us-isof-south-1": ("US ISOF South",),
    "eusc-de-east-1": ("AWS European Sovereign Cloud (Germany)",),
}
REGIONS_BY_DISPLAY_NAME: Final = {
    " ".join(name.split()).casefold(): code for code, names in _REGION_NAMES.items() for name in names
}
_PARTITIONS: Final = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("eusc-", "aws-eusc"),
)
_CONSOLES: Final = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}


@dataclass(frozen=True, slots=True)
class AlarmArn:
    arn: str
    partition: str
    region: str
    account: str
    name: str


@dataclass(frozen=True, slots=True)
class _Metrics:
    """What an alarm's metrics say: its kind, and the first metric's identity."""

    alarm_type: str
    namespace: str | None = None
    metric: str | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)


def region_code(display_name: str) -> str | None:
    """The region code for an SNS notification's "Region" ("Asia Pacific (Tokyo)" -> "ap-northeast-1"); a code
    given as is stays as is. None when unknown."""
    normalized = " ".join(display_name.split()).casefold()
    if _REGION_CODE.fullmatch(normalized):
        return normalized
    return REGIONS_BY_DISPLAY_NAME.get(normalized)


def parse_alarm_arn(value: Any, where: str) -> AlarmArn:
    if not isinstance(value, str):
        raise ParseError(f"{where} must be a CloudWatch alarm ARN, not {describe(value)}")
    parts = value.split(":", 6)
    if (
        len(value) > MAX_ARN
        or len(parts) != 7
        or parts[0] != "arn"
        or parts[2] != "cloudwatch"
        or parts[5] != "alarm"
        or not all(part.strip() for part in (parts[1], parts[3], parts[4], parts[6]))
    ):
        raise ParseError(
            f"{where} is not a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>): "
            f"{truncate(value, 200)!r}"
        )
    return AlarmArn(arn=value, partition=parts[1], region=parts[3], account=parts[4], name=parts[6])


def console_url(arn: AlarmArn, alarm_name: str) -> str | None:
    """The alarm's page in the CloudWatch console, for responders; None where the console's address is unknown."""
    console = _CONSOLES.get(arn.partition)
    if console is None or not _REGION_CODE.fullmatch(arn.region):
        return None
    base = console.format(region=arn.region)
    name = quote(alarm_name, safe="", errors="surrogatepass")  # JSON may carry a lone surrogate; UTF-8 cannot
    return f"{base}/cloudwatch/home?region={arn.region}#alarmsV2:alarm/{name}"


def _alarm_state(
    event: Mapping[str, Any], alarm: Mapping[str, Any], where: str
) -> tuple[str, Mapping[str, Any], SignalStatus, datetime, Mapping[str, Any]]:
    """What the EventBridge event's ``detail`` and a Lambda alarm action's ``alarmData`` (``where``) both hold: the
    alarm's name, its state, the status it means, when it changed (the state's timestamp, else the event's time)
    and its configuration."""
    alarm_name = required_str(alarm, "alarmName", where)
    if alarm.get("state") is None:
        raise ParseError(f"{where}.state is required")
    state = mapping(alarm["state"], f"{where}.state")
    status = _status(state.get("value"), f"{where}.state.value")
    occurred_at = optional_timestamp(state, "timestamp", f"{where}.state")
    if occurred_at is None:
        if event.get("time") is None:
            raise ParseError(f"{where}.state.timestamp or time is required")
        occurred_at = timestamp(event["time"], "time")
    return alarm_name, state, status, occurred_at, optional_mapping(alarm, "configuration", where)


# -- EventBridge --------------------------------------------------------------------------------------------------
def parse_cloudwatch_event(event: Mapping[str, Any]) -> Signal:
    """The signal of a "CloudWatch Alarm State Change" or "CloudWatch Alarm Contributor State Change" event.
    Raises ParseError."""
    delivery_id, arn, detail = _envelope(event)
    alarm_name, state, status, occurred_at, configuration = _alarm_state(event, detail, "detail")
    description = optional_str(configuration, "description", "detail.configuration")
    metrics = _Metrics("composite") if "alarmRule" in configuration else _event_metrics(configuration)
    previous_state = optional_str(optional_mapping(detail, "previousState", "detail"), "value", "detail.previousState")
    details = _details(arn, metrics.alarm_type, previous_state)
    details.update(_suppression(detail, state))
    title, dedup_key, labels = alarm_name, f"cloudwatch:{arn.arn}", dict(metrics.dimensions)
    contributor = _contributor(detail, event.get("detail-type") == CONTRIBUTOR_STATE_CHANGE)
    if contributor is not None:
        contributor_id, labels = contributor
        dedup_key += f"{CONTRIBUTOR_SEPARATOR}{contributor_id}"
        shown = ", ".join(f"{name}={value}" for name, value in sorted(labels.items()))
        title = f"{alarm_name} ({shown or f'contributor {contributor_id}'})"
        details.update(alarm_type="multi_time_series", contributor_id=contributor_id)
    return Signal(
        source=Source.CLOUDWATCH,
        delivery_id=delivery_id,
        dedup_key=dedup_key,
        status=status,
        title=truncate(title, MAX_TITLE),
        occurred_at=occurred_at,
        summary=truncate(optional_str(state, "reason", "detail.state") or "", MAX_SUMMARY),
        hints=SeverityHints(
            alarm_name=alarm_name,
            namespace=metrics.namespace,
            metric=metrics.metric,
            description=truncate(description, MAX_SUMMARY) if description else None,
            labels=labels,
        ),
        link=console_url(arn, alarm_name),
        details=details,
    )


def _envelope(event: Any) -> tuple[str, AlarmArn, Mapping[str, Any]]:
    """(delivery id, alarm ARN, detail) of an alarm event, once its detail-type is known to be one of ours."""
    if not isinstance(event, Mapping):
        raise ParseError(f"the event must be an object, not {describe(event)}")
    detail_type = event.get("detail-type")
    if detail_type not in DETAIL_TYPES:
        raise ParseError(f"detail-type must be {' or '.join(repr(t) for t in DETAIL_TYPES)}, not {quoted(detail_type)}")
    delivery_id = required_str(event, "id", "", max_length=MAX_ID)
    if event.get("resources") is None:
        raise ParseError("resources is required (the alarm ARN)")
    resources = sequence(event["resources"], "resources")
    if not resources:
        raise ParseError("resources must not be empty: its first item is the alarm ARN")
    arn = parse_alarm_arn(resources[0], "resources[0]")
    if event.get("detail") is None:
        raise ParseError("detail is required")
    return delivery_id, arn, mapping(event["detail"], "detail")


def _suppression(detail: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, str]:
    """Why the alarm's actions are not being taken, if they are not: a composite alarm's suppressor
    (state.actionsSuppressedBy: Alarm, WaitPeriod or ExtensionPeriod), or an alarm mute rule (muteDetail)."""
    facts = {
        "actions_suppressed_by": optional_str(state, "actionsSuppressedBy", "detail.state"),
        "actions_suppressed_reason": optional_str(state, "actionsSuppressedReason", "detail.state"),
        "muted_by": optional_str(optional_mapping(detail, "muteDetail", "detail"), "mutedByArn", "detail.muteDetail"),
    }
    return {name: value for name, value in facts.items() if value is not None}


def _contributor(detail: Mapping[str, Any], required: bool) -> tuple[str, dict[str, str]] | None:
    """(id, attributes) of the contributor a contributor event is about; None for an alarm-level event."""
    if detail.get("alarmContributor") is None:
        if required:
            raise ParseError(f"detail.alarmContributor is required in a {CONTRIBUTOR_STATE_CHANGE!r} event")
        return None
    contributor = mapping(detail["alarmContributor"], "detail.alarmContributor")
    attributes = optional_string_map(contributor, "attributes", "detail.alarmContributor")
    contributor_id = optional_str(contributor, "id", "detail.alarmContributor", max_length=MAX_ID)
    if contributor_id is None:
        if not attributes:
            raise ParseError("detail.alarmContributor needs an id or attributes")
        contributor_id = stable_hash(attributes)[:16]
    return contributor_id, attributes


def _event_metrics(configuration: Mapping[str, Any], where: str = "detail.configuration") -> _Metrics:
    """The alarm's kind and first metric, from an event's (or an alarm action's) ``configuration.metrics``."""
    if configuration.get("metrics") is None:
        return _Metrics("metric")
    queries = sequence(configuration["metrics"], f"{where}.metrics")
    return _query_metrics(queries, f"{where}.metrics", _EVENT_KEYS, "thresholdMetricId" in configuration)


@dataclass(frozen=True, slots=True)
class _MetricKeys:
    """How one metric query is spelled: lowerCamel in EventBridge events (dimensions as an object), UpperCamel in
    SNS notifications (dimensions as a list of {"name", "value"})."""

    expression: str
    metric_stat: str
    metric: str
    namespace: str
    name: str
    dimensions: Callable[[Mapping[str, Any], str], dict[str, str]]


def _query_metrics(queries: Sequence[Any], where: str, keys: _MetricKeys, threshold_metric_id: bool) -> _Metrics:
    """The alarm's kind (from its expressions) and the first metric its queries name."""
    expressions: list[str] = []
    first: _Metrics | None = None
    for index, raw in enumerate(queries):
        query_where = f"{where}[{index}]"
        query = mapping(raw, query_where)
        expression = optional_str(query, keys.expression, query_where)
        if expression is not None:
            expressions.append(expression)
        stat = optional_mapping(query, keys.metric_stat, query_where)
        if first is None and stat:
            metric = optional_mapping(stat, keys.metric, where_of(query_where, keys.metric_stat))
            metric_where = f"{query_where}.{keys.metric_stat}.{keys.metric}"
            first = _Metrics(
                "metric",
                namespace=optional_str(metric, keys.namespace, metric_where),
                metric=optional_str(metric, keys.name, metric_where),
                dimensions=keys.dimensions(metric, metric_where),
            )
    alarm_type = _alarm_type(expressions, threshold_metric_id)
    if first is None:
        return _Metrics(alarm_type)
    return _Metrics(alarm_type, first.namespace, first.metric, first.dimensions)


# -- SNS ----------------------------------------------------------------------------------------------------------
def parse_cloudwatch_sns_message(message: str | Mapping[str, Any], message_id: str) -> Signal:
    """The signal of a CloudWatch alarm notification: ``message`` is the SNS record's "Message" (the JSON text, or
    it decoded), ``message_id`` its "MessageId". Raises ParseError."""
    if not isinstance(message_id, str) or not message_id.strip() or len(message_id) > MAX_ID:
        raise ParseError("MessageId must be a non-empty string")
    body = _decoded(message)
    root = "Message"
    alarm_name = required_str(body, "AlarmName", root)
    status = _status(body.get("NewStateValue"), "Message.NewStateValue")
    if body.get("AlarmArn") is not None:
        arn = parse_alarm_arn(body["AlarmArn"], "Message.AlarmArn")
    else:
        arn = _built_arn(body, alarm_name)
    if body.get("StateChangeTime") is None:
        raise ParseError("Message.StateChangeTime is required")
    occurred_at = timestamp(body["StateChangeTime"], "Message.StateChangeTime")
    description = optional_str(body, "AlarmDescription", root)
    if body.get("AlarmRule") is not None:
        metrics = _Metrics("composite")
    else:
        metrics = _trigger_metrics(optional_mapping(body, "Trigger", root))
    return Signal(
        source=Source.CLOUDWATCH_SNS,
        delivery_id=message_id,
        dedup_key=f"cloudwatch:{arn.arn}",
        status=status,
        title=truncate(alarm_name, MAX_TITLE),
        occurred_at=occurred_at,
        summary=truncate(optional_str(body, "NewStateReason", root) or "", MAX_SUMMARY),
        hints=SeverityHints(
            alarm_name=alarm_name,
            namespace=metrics.namespace,
            metric=metrics.metric,
            description=truncate(description, MAX_SUMMARY) if description else None,
            labels=dict(metrics.dimensions),
        ),
        link=console_url(arn, alarm_name),
        details=_details(arn, metrics.alarm_type, optional_str(body, "OldStateValue", root)),
    )


def _decoded(message: Any) -> Mapping[str, Any]:
    if isinstance(message, str):
        try:
            message = decode_json(message)
        except ParseError as error:
            raise ParseError(f"Message is not JSON (a CloudWatch alarm notification): {error}") from None
    if not isinstance(message, Mapping):
        raise ParseError(f"Message must be a JSON object (a CloudWatch alarm notification), not {describe(message)}")
    return message


def _built_arn(body: Mapping[str, Any], alarm_name: str) -> AlarmArn:
    """The alarm ARN of an older notification without AlarmArn: from AWSAccountId, the region's display name and
    the alarm name."""
    account = required_str(body, "AWSAccountId", "Message")
    display_name = required_str(body, "Region", "Message")
    region = region_code(display_name)
    if region is None:
        raise ParseError(
            f"Message.Region {truncate(display_name, 100)!r} is not a known AWS region name, and there is no "
            "Message.AlarmArn to read the region from"
        )
    partition = next((name for prefix, name in _PARTITIONS if region.startswith(prefix)), "aws")
    return parse_alarm_arn(f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm_name}", "Message.AlarmName")


def _trigger_metrics(trigger: Mapping[str, Any]) -> _Metrics:
    """The alarm's kind and first metric, from an SNS notification's ``Trigger`` (UpperCamel keys; dimensions as a
    list of {"name", "value"}): a single metric (MetricName, Namespace, Dimensions) or queries (Metrics)."""
    where = "Message.Trigger"
    if trigger.get("Metrics") is None:
        return _Metrics(
            "metric",
            namespace=optional_str(trigger, "Namespace", where),
            metric=optional_str(trigger, "MetricName", where),
            dimensions=_sns_dimensions(trigger, where),
        )
    queries = sequence(trigger["Metrics"], where_of(where, "Metrics"))
    return _query_metrics(queries, where_of(where, "Metrics"), _SNS_KEYS, trigger.get("ThresholdMetricId") is not None)


def _dimension_list(value: Any, where: str) -> dict[str, str]:
    """SNS dimensions: ``[{"value": "i-0abc", "name": "InstanceId"}]`` (an object of strings is taken too)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return string_map(value, where)
    dimensions: dict[str, str] = {}
    for index, raw in enumerate(sequence(value, where)):
        item = mapping(raw, f"{where}[{index}]")
        name = item.get("name", item.get("Name"))
        text = item.get("value", item.get("Value"))
        if not isinstance(name, str) or not isinstance(text, str):
            raise ParseError(f"{where}[{index}] must have a string name and a string value")
        dimensions[name] = text
    return dimensions


def _sns_dimensions(metric: Mapping[str, Any], where: str) -> dict[str, str]:
    return _dimension_list(metric.get("Dimensions"), where_of(where, "Dimensions"))


_EVENT_KEYS: Final = _MetricKeys(
    "expression",
    "metricStat",
    "metric",
    "namespace",
    "name",
    lambda metric, where: optional_string_map(metric, "dimensions", where),
)
_SNS_KEYS: Final = _MetricKeys("Expression", "MetricStat", "Metric", "Namespace", "MetricName", _sns_dimensions)


# -- Lambda alarm actions -------------------------------------------------------------------------------------------
def parse_cloudwatch_alarm_action(event: Mapping[str, Any]) -> Signal:
    """The signal of an alarm action that invoked Siren's function directly: ``{"source": "aws.cloudwatch",
    "alarmArn", "accountId", "time", "region", "alarmData": {"alarmName", "state", "previousState",
    "configuration"}}`` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    #Lambda-action-payload). ``alarmData`` is the EventBridge event's ``detail`` by another name, so it is read the
    same way (lowerCamel metric queries; ``alarmRule`` for a composite alarm). Raises ParseError.

    The payload has no id of its own: a redelivery (Lambda's asynchronous retries) carries the same alarm, state
    and state timestamp, so those make the delivery id."""
    if not isinstance(event, Mapping):
        raise ParseError(f"the alarm action payload must be an object, not {describe(event)}")
    if event.get("source") != "aws.cloudwatch":
        raise ParseError(
            f"source must be 'aws.cloudwatch' (a CloudWatch alarm action), not {quoted(event.get('source'))}"
        )
    if event.get("alarmArn") is None:
        raise ParseError("alarmArn is required")
    arn = parse_alarm_arn(event["alarmArn"], "alarmArn")
    if event.get("alarmData") is None:
        raise ParseError("alarmData is required")
    data = mapping(event["alarmData"], "alarmData")
    alarm_name, state, status, occurred_at, configuration = _alarm_state(event, data, "alarmData")
    description = optional_str(configuration, "description", "alarmData.configuration")
    if "alarmRule" in configuration:
        metrics = _Metrics("composite")
    else:
        metrics = _event_metrics(configuration, "alarmData.configuration")
    previous = optional_str(optional_mapping(data, "previousState", "alarmData"), "value", "alarmData.previousState")
    details = _details(arn, metrics.alarm_type, previous)
    details.update(_suppression(data, state))
    return Signal(
        source=Source.CLOUDWATCH_LAMBDA,
        delivery_id=f"cloudwatch-lambda:{stable_hash([arn.arn, state.get('value'), occurred_at.isoformat()])}",
        dedup_key=f"cloudwatch:{arn.arn}",
        status=status,
        title=truncate(alarm_name, MAX_TITLE),
        occurred_at=occurred_at,
        summary=truncate(optional_str(state, "reason", "alarmData.state") or "", MAX_SUMMARY),
        hints=SeverityHints(
            alarm_name=alarm_name,
            namespace=metrics.namespace,
            metric=metrics.metric,
            description=truncate(description, MAX_SUMMARY) if description else None,
            labels=dict(metrics.dimensions),
        ),
        link=console_url(arn, alarm_name),
        details=details,
    )


# -- both ---------------------------------------------------------------------------------------------------------
def _status(value: Any, where: str) -> SignalStatus:
    status = _STATES.get(value) if isinstance(value, str) else None
    if status is None:
        raise ParseError(f"{where} must be one of {', '.join(_STATES)}, not {quoted(value)}")
    return status


def _alarm_type(expressions: Sequence[str], threshold_metric_id: bool) -> str:
    if threshold_metric_id or any(_ANOMALY_BAND.search(expression) for expression in expressions):
        return "anomaly_detection"
    if any(_GROUPED_QUERY.match(expression) for expression in expressions):
        return "multi_time_series"  # a Metrics Insights query that returns several time series
    return "metric_math" if expressions else "metric"


def _details(arn: AlarmArn, alarm_type: str, previous_state: str | None) -> dict[str, str]:
    details = {"alarm_arn": arn.arn, "region": arn.region, "account": arn.account, "alarm_type": alarm_type}
    if previous_state is not None:
        details["previous_state"] = previous_state
    return details
