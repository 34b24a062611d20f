"""Every sample alert of every CloudWatch family, delivered to the deployed ingest functions in order, lands in
the incident state a user expects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
EVENTS = Path(__file__).parent.parent / "events"

# (sample, expected action), in delivery order: later samples of one alarm act on the earlier one's incident.
EVENTBRIDGE_SAMPLES = [
    ("cw_alarm_state_change_alarm.json", "opened"),
    ("cw_alarm_metric_math_alarm.json", "opened"),
    ("cw_alarm_metric_math_ok.json", "resolved"),
    ("cw_alarm_anomaly_detection.json", "ignored"),  # muted by an alarm mute rule
    ("cw_alarm_composite_suppressed.json", "ignored"),  # actions suppressed by the suppressor alarm
    ("cw_alarm_insufficient_data.json", "ignored"),  # INSUFFICIENT_DATA: ignored by default
    ("cw_alarm_multi_time_series_alarm.json", "ignored"),  # alarm-level: its contributors are the incidents
    ("cw_alarm_multi_time_series_contributor_alarm.json", "opened"),
    ("cw_alarm_multi_time_series_contributor_ok.json", "resolved"),
]
SNS_SAMPLES = [
    ("cw_alarm_sns_server_cpu_too_high.json", "appended"),  # the same alarm as cw_alarm_state_change_alarm
    ("cw_alarm_sns_composite.json", "opened"),
    ("cw_alarm_sns_metric_math.json", "opened"),
    ("cw_alarm_sns_tokyo_null_description.json", "opened"),
    ("cw_alarm_sns_legacy_without_arn.json", "ignored"),  # OK with no incident
    ("cw_alarm_sns_lambda_event_single_metric.json", "opened"),
]


def invoke(runtime: Any, function_part: str, event: Any) -> dict[str, Any]:
    lambda_client = runtime.client("lambda")
    name = next(
        f["FunctionName"] for f in lambda_client.list_functions()["Functions"] if function_part in f["FunctionName"]
    )
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


def test_every_cloudwatch_sample_reaches_the_expected_state(local_http):
    for sample, expected in EVENTBRIDGE_SAMPLES:
        result = invoke(local_http, "AlarmEvents", json.loads((EVENTS / sample).read_text()))
        assert [r["action"] for r in result["results"]] == [expected], sample
    for sample, expected in SNS_SAMPLES:
        result = invoke(local_http, "AlarmSns", json.loads((EVENTS / sample).read_text()))
        assert result["refused"] == 0, sample
        assert [r["action"] for r in result["results"]] == [expected], sample
    assert local_http.drain()
