"""Pure helpers of the embedded local AWS: schedule expressions, event shapes, SMS replies, packaging."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siren_local.alarms import alarm_state_change_event
from siren_local.deploy import zip_directory
from siren_local.inbound_sms import E164, inbound_sms_message
from siren_local.scheduler import ScheduleExpressionError, next_fire_after, rate_seconds

EVENTS = Path(__file__).parent.parent / "events"


def test_aws_cron_days_are_numbered_from_sunday():
    # cron(0 9 ? * 2 *) is Mondays at 09:00 in AWS's numbering (1 = Sunday).
    after = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
    assert next_fire_after("cron(0 9 ? * 2 *)", after) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert next_fire_after("cron(0 9 ? * MON *)", after) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_cron_runs_in_the_schedule_time_zone_across_dst():
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
    winter = next_fire_after("cron(0 9 * * ? *)", datetime(2026, 1, 10, 0, 0, tzinfo=UTC), "America/New_York")
    summer = next_fire_after("cron(0 9 * * ? *)", datetime(2026, 7, 10, 0, 0, tzinfo=UTC), "America/New_York")
    assert winter == datetime(2026, 1, 10, 14, 0, tzinfo=UTC)
    assert summer == datetime(2026, 7, 10, 13, 0, tzinfo=UTC)


def test_at_and_rate_expressions():
    after = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_fire_after("at(2026-02-01T10:00:00)", after) == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
    assert next_fire_after("at(2025-02-01T10:00:00)", after) is None
    assert rate_seconds("rate(1 day)") == 86400
    assert rate_seconds("rate(15 minutes)") == 900


@pytest.mark.parametrize("expression", ["cron(0 9 * * *)", "cron(0 9 1 * 2 *)", "every day", "cron(0 9 ? * MON 2027)"])
def test_bad_schedule_expressions_are_refused(expression):
    with pytest.raises(ScheduleExpressionError):
        next_fire_after(expression, datetime(2026, 1, 1, tzinfo=UTC))


def test_fired_alarm_event_has_the_shape_of_the_real_one():
    sample = json.loads((EVENTS / "cw_alarm_state_change_alarm.json").read_text())
    alarm = {
        "AlarmName": "ServerCpuTooHigh",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh",
        "AlarmDescription": "Goes into alarm when server CPU utilization is too high!",
        "Namespace": "AWS/EC2",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678901234567"}],
        "Period": 300,
        "Statistic": "Average",
    }
    event = alarm_state_change_event(
        alarm=alarm,
        account="123456789012",
        region="us-east-1",
        previous=sample["detail"]["previousState"],
        state="ALARM",
        reason="Threshold Crossed",
        at=datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC),
    )

    def shape(value):
        if isinstance(value, dict):
            return {key: shape(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [shape(inner) for inner in value]
        return type(value).__name__

    assert shape(event) == shape(sample)
    assert event["time"] == sample["time"]
    assert event["detail"]["state"]["timestamp"] == sample["detail"]["state"]["timestamp"]
    assert (
        event["detail"]["configuration"]["metrics"][0]["metricStat"]
        == sample["detail"]["configuration"]["metrics"][0]["metricStat"]
    )


def test_inbound_sms_has_the_shape_end_user_messaging_publishes():
    sample = json.loads((EVENTS / "sms_inbound_two_way_sns_message.json").read_text())
    message = inbound_sms_message("+14255550182", "ack 482193")
    assert set(message) == set(sample)
    assert message["originationNumber"] == "+14255550182"
    assert message["messageKeyword"] == "ACK"


@given(st.text(max_size=20))
def test_only_e164_numbers_are_accepted(number):
    if E164.match(number):
        assert inbound_sms_message(number, "x")["originationNumber"] == number
    else:
        with pytest.raises(ValueError, match=r"E\.164"):
            inbound_sms_message(number, "x")


def test_asset_zips_are_reproducible(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 2\n")
    first = zip_directory(tmp_path)
    (tmp_path / "b.py").touch()
    assert zip_directory(tmp_path) == first


def test_an_asset_changed_in_place_is_zipped_again(tmp_path):
    # The zip is made once per tree state (a process deploys the same assembly for every test's runtime)...
    (tmp_path / "a.py").write_text("A = 1\n")
    first = zip_directory(tmp_path)
    # ...and a file changed, added or removed in place is a new state
    (tmp_path / "a.py").write_text("A = 22\n")
    changed = zip_directory(tmp_path)
    (tmp_path / "c.py").write_text("C = 3\n")
    added = zip_directory(tmp_path)
    names = lambda body: sorted(zipfile.ZipFile(io.BytesIO(body)).namelist())  # noqa: E731
    contents = lambda body: zipfile.ZipFile(io.BytesIO(body)).read("a.py")  # noqa: E731
    assert contents(first) == b"A = 1\n" and contents(changed) == b"A = 22\n"
    assert names(changed) == ["a.py"] and names(added) == ["a.py", "c.py"]


def test_every_botocore_session_of_the_local_process_shares_one_model_loader():
    # GIVEN the embedded runtime's process (the loader is shared once its adapters are installed)
    import boto3

    from siren_local.botocore_models import share_one_loader

    share_one_loader()
    share_one_loader()  # idempotent
    # WHEN two sessions are made, THEN they read the service models through the same loader (read once)
    first = boto3.session.Session()._session.get_component("data_loader")
    second = boto3.session.Session()._session.get_component("data_loader")
    assert first is second
