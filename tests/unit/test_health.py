"""`siren health`'s verdict from what it read (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siren.domain.health import WATCHDOG_OK, AlarmState, assess, watchdog_verdict

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def verdict(**changes):
    values = dict(
        now=NOW,
        heartbeat_at=NOW - timedelta(minutes=3),
        heartbeat_minutes=5,
        alarms=[AlarmState("Siren-Errors-X", "OK"), AlarmState("Siren-CanaryMissing", "OK")],
        dead_letters=0,
        repairs_last_hour=2,
        watchdog=WATCHDOG_OK,
    )
    values.update(changes)
    return assess(**values)


def test_all_good_is_healthy_and_says_so_in_json():
    health = verdict()
    assert health.healthy and health.problems == ()
    assert health.to_json()["heartbeat_age_seconds"] == 180.0
    assert health.to_json()["repairs_last_hour"] == 2  # shown, not decisive


def test_each_problem_makes_it_unhealthy_and_is_named():
    cases = {
        "never": verdict(heartbeat_at=None),
        "600 s": verdict(heartbeat_at=NOW - timedelta(minutes=11)),
        "Siren-Errors-X": verdict(alarms=[AlarmState("Siren-Errors-X", "ALARM")]),
        "dead-letter": verdict(dead_letters=3),
        "watchdog": verdict(watchdog="no watchdog alarm"),
    }
    for expected, health in cases.items():
        assert not health.healthy
        assert any(expected in problem for problem in health.problems), (expected, health.problems)


def test_alarms_in_alarm_come_first_and_insufficient_data_is_not_a_problem():
    health = verdict(alarms=[AlarmState("Siren-A", "INSUFFICIENT_DATA"), AlarmState("Siren-B", "ALARM")])
    assert [alarm.name for alarm in health.alarms] == ["Siren-B", "Siren-A"]
    assert health.problems == ("alarm Siren-B is in ALARM",)


def test_watchdog_verdicts():
    assert watchdog_verdict("OK", "SirenWatchdog-CanarySilent", "us-west-2") == WATCHDOG_OK
    assert "not heard the canary" in watchdog_verdict("ALARM", "W", "us-west-2")
    assert "deploy the SirenWatchdog stack" in watchdog_verdict(None, "W", "us-west-2")
