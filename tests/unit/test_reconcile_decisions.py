"""The reconciler's decisions for one unacknowledged incident, and the run names they rest on (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siren.domain.escalation import (
    Run,
    RunName,
    RunStatus,
    execution_name,
    parse_execution_name,
    repair_for_unacknowledged,
)

OPENED = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=2)
INCIDENT = "INC-20261129-1200-abc123"


@given(
    incident=st.from_regex(r"INC-[0-9]{8}-[0-9]{4}-[0-9a-f]{6}", fullmatch=True),
    attempt=st.integers(1, 10_000),
    repair=st.integers(0, 10_000),
)
def test_run_names_round_trip(incident, attempt, repair):
    assert parse_execution_name(execution_name(incident, attempt, repair)) == RunName(incident, attempt, repair)


def test_other_names_are_not_escalation_runs():
    assert parse_execution_name("some-other-run") is None


def decide(latest: Run | None, minutes_open: float):
    return repair_for_unacknowledged(
        INCIDENT, 2, latest, opened_at=OPENED, now=OPENED + timedelta(minutes=minutes_open), grace=GRACE
    )


def test_a_missing_run_is_started_under_the_attempts_own_name_after_the_grace():
    assert decide(None, minutes_open=1) is None  # the start may be on its way
    started = decide(None, minutes_open=3)
    assert started is not None and started.name == f"{INCIDENT}-a2"


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.SUCCEEDED])
def test_a_running_or_finished_run_is_left_alone(status):
    assert decide(Run(f"{INCIDENT}-a2", status), minutes_open=30) is None


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABORTED])
def test_a_run_that_ended_early_gets_the_next_repair_run_at_once(status):
    first = decide(Run(f"{INCIDENT}-a2", status), minutes_open=0.1)
    assert first is not None and first.name == f"{INCIDENT}-a2-r1" and status.lower() in first.why
    second = decide(Run(f"{INCIDENT}-a2-r1", status), minutes_open=0.1)
    assert second is not None and second.name == f"{INCIDENT}-a2-r2"
