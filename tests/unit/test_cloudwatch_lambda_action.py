"""CloudWatch's third path: an alarm whose action invokes Siren's function directly (Lambda alarm actions).

The samples (tests/events/cw_alarm_lambda_action_*.json) follow the payloads of the CloudWatch user guide, "Lambda
alarm action payload" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
#Lambda-action-payload): a single-metric alarm and a composite alarm as printed there, and a metric math alarm
written in the same shape (``alarmData`` is the EventBridge event's ``detail``; the metric math queries are those of
the EventBridge sample cw_alarm_metric_math_alarm.json).

GIVEN one alarm delivered through EventBridge, through SNS and by direct invocation
WHEN the three deliveries reach the ingest use case (on the fakes)
THEN they share one dedup key and make one incident; a wrong payload is refused by field and kept; Siren's own
alarms are ignored, as the EventBridge rule leaves them out.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from siren.app.ingest import Ingestor
from siren.app.intake import Intake
from siren.config import load_config
from siren.domain.incidents import IncidentStatus
from siren.domain.parsers import parse_cloudwatch_alarm_action, parse_cloudwatch_event, parse_cloudwatch_sns_message
from siren.domain.signals import ParseError, SignalStatus, Source
from tests.fakes import FakeDeadLetters, FakeIncidentRepository

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
CONFIG = load_config(ROOT / "siren.yaml")


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def as_alarm_action(event: dict[str, Any]) -> dict[str, Any]:
    """The Lambda action payload of the alarm an EventBridge event is about: the same alarm, as CloudWatch hands it
    to a function (``alarmData`` carries what ``detail`` carries)."""
    return {
        "source": "aws.cloudwatch",
        "alarmArn": event["resources"][0],
        "accountId": event["account"],
        "time": event["detail"]["state"]["timestamp"],
        "region": event["region"],
        "alarmData": copy.deepcopy(event["detail"]),
    }


def front_door(store: FakeIncidentRepository, own_alarm_prefix: str | None = "Siren-") -> tuple[Intake, Any]:
    dead_letters = FakeDeadLetters()
    intake = Intake(Ingestor(store, CONFIG), dead_letters, own_alarm_prefix=own_alarm_prefix)  # type: ignore[arg-type]
    return intake, dead_letters


# -- the samples --------------------------------------------------------------------------------------------------
def test_a_single_metric_alarm_action_reads_as_its_metric():
    signal = parse_cloudwatch_alarm_action(sample("cw_alarm_lambda_action_single_metric.json"))

    arn = "arn:aws:cloudwatch:us-east-1:444455556666:alarm:lambda-demo-metric-alarm"
    assert (signal.source, signal.status, signal.dedup_key) == (
        Source.CLOUDWATCH_LAMBDA,
        SignalStatus.FIRING,
        f"cloudwatch:{arn}",
    )
    assert (signal.hints.namespace, signal.hints.metric, dict(signal.hints.labels)) == (
        "AWS/Logs",
        "CallCount",
        {"InstanceId": "i-12345678"},
    )
    assert signal.details["alarm_type"] == "metric" and signal.details["previous_state"] == "INSUFFICIENT_DATA"
    assert signal.occurred_at.isoformat() == "2023-08-04T12:36:15.490000+00:00"
    assert signal.hints.description == "Metric Alarm to test Lambda actions"


def test_a_metric_math_alarm_action_is_metric_math_with_its_first_metric():
    signal = parse_cloudwatch_alarm_action(sample("cw_alarm_lambda_action_metric_math.json"))

    assert signal.details["alarm_type"] == "metric_math"
    assert (signal.hints.namespace, signal.hints.metric) == ("AWS/EC2", "NetworkIn")
    # The same alarm through EventBridge: the same key, the same reading of its metrics.
    through_the_bus = parse_cloudwatch_event(sample("cw_alarm_metric_math_alarm.json"))
    assert signal.dedup_key == through_the_bus.dedup_key
    assert signal.hints == through_the_bus.hints


def test_a_composite_alarm_action_is_composite_and_keyed_by_its_arn():
    signal = parse_cloudwatch_alarm_action(sample("cw_alarm_lambda_action_composite.json"))

    assert signal.details["alarm_type"] == "composite"
    assert signal.dedup_key == "cloudwatch:arn:aws:cloudwatch:us-east-1:111122223333:alarm:SuppressionDemo.Main"
    assert signal.title == "CompositeDemo.Main"
    assert (signal.hints.namespace, signal.hints.metric) == (None, None)


def test_a_redelivered_action_has_the_same_delivery_id_and_a_new_state_another():
    payload = sample("cw_alarm_lambda_action_single_metric.json")
    recovered = copy.deepcopy(payload)
    recovered["alarmData"]["state"] = {"value": "OK", "reason": "back", "timestamp": "2023-08-04T12:41:15.490+0000"}

    first, again = parse_cloudwatch_alarm_action(payload), parse_cloudwatch_alarm_action(copy.deepcopy(payload))
    later = parse_cloudwatch_alarm_action(recovered)

    assert first.delivery_id == again.delivery_id
    assert later.delivery_id != first.delivery_id and later.status is SignalStatus.RESOLVED


# -- one alarm, three paths ---------------------------------------------------------------------------------------
def test_the_same_alarm_has_one_dedup_key_whichever_of_the_three_paths_it_takes():
    event = sample("cw_alarm_state_change_alarm.json")
    sns = sample("cw_alarm_sns_server_cpu_too_high.json")["Records"][0]["Sns"]

    keys = {
        parse_cloudwatch_event(event).dedup_key,
        parse_cloudwatch_sns_message(sns["Message"], sns["MessageId"]).dedup_key,
        parse_cloudwatch_alarm_action(as_alarm_action(event)).dedup_key,
    }

    assert keys == {"cloudwatch:arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"}


def test_the_same_alarm_through_the_three_paths_is_one_incident():
    # GIVEN ServerCpuTooHigh wired every way: a rule on the bus, an SNS action and a Lambda action
    store = FakeIncidentRepository()
    intake, dead_letters = front_door(store)
    event = sample("cw_alarm_state_change_alarm.json")

    # WHEN CloudWatch delivers its ALARM three ways
    by_bus = intake.cloudwatch_event(event)
    by_sns = intake.cloudwatch_sns(sample("cw_alarm_sns_server_cpu_too_high.json"))
    direct = intake.cloudwatch_alarm_action(as_alarm_action(event))

    # THEN one incident, which each later delivery joins
    actions = [answer["results"][0]["action"] for answer in (by_bus, by_sns, direct)]
    assert actions == ["opened", "appended", "appended"]
    ids = {answer["results"][0]["incident_id"] for answer in (by_bus, by_sns, direct)}
    assert len(ids) == 1
    incident = store.get(ids.pop())
    assert incident is not None and incident.alert_count == 3
    assert dead_letters.kept == []


def test_an_ok_through_the_direct_path_resolves_the_incident_the_bus_opened():
    store = FakeIncidentRepository()
    intake, _ = front_door(store)
    event = sample("cw_alarm_state_change_alarm.json")
    opened = intake.cloudwatch_event(event)["results"][0]
    ok = as_alarm_action(event)
    ok["alarmData"]["previousState"] = ok["alarmData"]["state"]
    ok["alarmData"]["state"] = {
        "value": "OK",
        "reason": "Threshold no longer crossed",
        "timestamp": "2019-10-02T17:19:40.989+0000",
    }

    resolved = intake.cloudwatch_alarm_action(ok)["results"][0]

    assert resolved["incident_id"] == opened["incident_id"]
    incident = store.get(opened["incident_id"])
    assert incident is not None and incident.status in (IncidentStatus.RESOLVED, IncidentStatus.RECOVERED)


def test_a_redelivered_direct_action_is_applied_once():
    store = FakeIncidentRepository()
    intake, _ = front_door(store)
    payload = sample("cw_alarm_lambda_action_single_metric.json")

    first = intake.cloudwatch_alarm_action(payload)["results"][0]
    again = intake.cloudwatch_alarm_action(copy.deepcopy(payload))["results"][0]

    assert first["action"] == "opened" and again["action"] == "duplicate_delivery"
    incident = store.get(first["incident_id"])
    assert incident is not None and incident.alert_count == 1


# -- Siren's own alarms -------------------------------------------------------------------------------------------
def test_sirens_own_alarms_are_ignored_on_the_direct_path_and_not_dead_lettered():
    store = FakeIncidentRepository()
    intake, dead_letters = front_door(store, own_alarm_prefix="Siren-")
    payload = sample("cw_alarm_lambda_action_single_metric.json")
    payload["alarmArn"] = "arn:aws:cloudwatch:us-east-1:444455556666:alarm:Siren-DeadLettersWaiting"
    payload["alarmData"]["alarmName"] = "Siren-DeadLettersWaiting"

    answer = intake.cloudwatch_alarm_action(payload)

    assert "Siren-DeadLettersWaiting" in answer["ignored"] and "results" not in answer
    assert store.incidents == {} and dead_letters.kept == []


def test_a_user_alarm_that_only_contains_the_stack_name_still_pages():
    store = FakeIncidentRepository()
    intake, _ = front_door(store, own_alarm_prefix="Siren-")
    payload = sample("cw_alarm_lambda_action_single_metric.json")
    payload["alarmData"]["alarmName"] = "checkout-Siren-latency"  # the prefix, not anywhere in the name

    assert intake.cloudwatch_alarm_action(payload)["results"][0]["action"] == "opened"


# -- refusals -----------------------------------------------------------------------------------------------------
def _with(change: Any) -> dict[str, Any]:
    payload = sample("cw_alarm_lambda_action_single_metric.json")
    change(payload)
    return payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_with(lambda p: p.update(source="aws.events")), "source must be 'aws.cloudwatch'"),
        (_with(lambda p: p.pop("alarmArn")), "alarmArn is required"),
        (_with(lambda p: p.update(alarmArn="arn:aws:sns:us-east-1:1:topic")), "alarmArn is not a CloudWatch alarm ARN"),
        (_with(lambda p: p.pop("alarmData")), "alarmData is required"),
        (_with(lambda p: p["alarmData"].pop("alarmName")), "alarmData.alarmName is required"),
        (_with(lambda p: p["alarmData"]["state"].update(value="PENDING")), "alarmData.state.value must be one of"),
        (
            _with(lambda p: p["alarmData"]["configuration"].update(metrics="CPU")),
            "alarmData.configuration.metrics must be an array",
        ),
        ([], "must be an object"),
    ],
)
def test_a_wrong_payload_is_refused_naming_the_field(payload: Any, message: str):
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_cloudwatch_alarm_action(payload)


def test_a_refused_action_is_kept_in_the_dead_letter_queue_with_its_reason():
    store = FakeIncidentRepository()
    intake, dead_letters = front_door(store)
    payload = _with(lambda p: p["alarmData"]["state"].update(value="PENDING"))

    answer = intake.cloudwatch_alarm_action(payload)

    assert answer["refused"].startswith("alarmData.state.value")
    ((kept, source, reason),) = dead_letters.kept
    assert (kept, source, reason) == (payload, "cloudwatch-lambda", answer["refused"])
    assert store.incidents == {}


# -- the handler --------------------------------------------------------------------------------------------------
def ingest_handlers() -> ModuleType:
    """functions/ingest/ingest_handlers.py, as the Lambda runtime loads it."""
    if "ingest_handlers" not in sys.modules:
        spec = importlib.util.spec_from_file_location("ingest_handlers", ROOT / "functions/ingest/ingest_handlers.py")
        assert spec is not None and spec.loader is not None
        sys.modules["ingest_handlers"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["ingest_handlers"])
    return sys.modules["ingest_handlers"]


@dataclass
class Context:
    function_name: str = "alarm-actions"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:alarm-actions"
    aws_request_id: str = "request-1"


def test_the_handler_hands_the_payload_to_the_intake():
    store = FakeIncidentRepository()
    intake, _ = front_door(store)

    answer = ingest_handlers().cloudwatch_alarm_action(
        sample("cw_alarm_lambda_action_composite.json"), Context(), dependencies=intake
    )

    assert answer["results"][0]["action"] == "opened"
