"""Who is on call: worked examples of rotations across DST changes, layers, restrictions and overrides.

Times are written in the schedule's zone where that is how a person would say them, and in UTC where the
point is the real elapsed time. Shifts come back in UTC; aware datetimes compare as instants.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from siren.config import load_config, load_config_text
from siren.domain.oncall import Shift, on_call, resolve_targets, shift_at, shifts
from siren.domain.policy import Override, Restriction, Rotation, Schedule, ScheduleLayer, Target, TargetKind, Weekday
from siren_cli.context import CliContext
from siren_cli.oncall_cmd import register

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SHIPPED = Path(__file__).resolve().parents[2] / "siren.yaml"
HOUR = timedelta(hours=1)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def layer(
    rotation: Rotation,
    handoff: datetime,
    *participants: str,
    length_hours: int | None = None,
    restrict: tuple[Restriction, ...] | None = None,
    name: str = "layer",
) -> ScheduleLayer:
    return ScheduleLayer(name, rotation, handoff, participants, length_hours, restrict)


def schedule(zone: str, *layers: ScheduleLayer, overrides: tuple[Override, ...] = ()) -> Schedule:
    return Schedule("primary", zone, layers, overrides)


def lengths(found: list[Shift]) -> list[float]:
    return [(shift.end - shift.start) / HOUR for shift in found]


# ---- rotations across DST changes -------------------------------------------------------------------------


def test_a_weekly_rotation_in_new_york_hands_off_at_9_local_across_spring_forward():
    # GIVEN a weekly rotation handing off on Mondays at 09:00 New York time; clocks go forward on Sunday 8 March
    primary = schedule("America/New_York", layer(Rotation.WEEKLY, datetime(2026, 3, 2, 9), "alice", "bob"))

    # WHEN the two weeks around the change are laid out
    found = shifts(primary, ny(2026, 3, 2, 9), ny(2026, 3, 16, 9))

    # THEN each shift starts at 09:00 local, so the week with the change is an hour short
    assert found == [
        Shift("alice", ny(2026, 3, 2, 9), ny(2026, 3, 9, 9)),
        Shift("bob", ny(2026, 3, 9, 9), ny(2026, 3, 16, 9)),
    ]
    assert found[0].end == utc(2026, 3, 9, 13)  # 09:00 EDT
    assert lengths(found) == [167, 168]
    assert on_call(primary, ny(2026, 3, 9, 8, 59)) == "alice"
    assert on_call(primary, ny(2026, 3, 9, 9)) == "bob"


def test_a_daily_rotation_in_new_york_has_a_23_hour_and_a_25_hour_shift():
    primary = schedule("America/New_York", layer(Rotation.DAILY, datetime(2026, 1, 5, 9), "alice", "bob", "carol"))

    spring = shifts(primary, ny(2026, 3, 7, 9), ny(2026, 3, 9, 9))
    autumn = shifts(primary, ny(2026, 10, 31, 9), ny(2026, 11, 2, 9))

    assert lengths(spring) == [23, 24]  # Saturday 09:00 EST to Sunday 09:00 EDT
    assert lengths(autumn) == [25, 24]  # Saturday 09:00 EDT to Sunday 09:00 EST
    assert [shift.start for shift in autumn] == [utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)]
    # 5 January is day 0 (alice): 7 March is day 61 (61 % 3 == 1, bob).
    assert [shift.user for shift in spring] == ["bob", "carol"]


def test_a_daily_and_a_weekly_rotation_in_berlin_across_both_changes():
    daily = schedule("Europe/Berlin", layer(Rotation.DAILY, datetime(2026, 3, 1, 9), "anna", "ben"))
    weekly = schedule("Europe/Berlin", layer(Rotation.WEEKLY, datetime(2026, 10, 19, 9), "anna", "ben"))

    # Clocks go forward on Sunday 29 March and back on Sunday 25 October in Berlin.
    assert shifts(daily, berlin(2026, 3, 28, 9), berlin(2026, 3, 30, 9)) == [
        Shift("ben", utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),  # 23 hours
        Shift("anna", utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),
    ]
    assert lengths(shifts(weekly, berlin(2026, 10, 19, 9), berlin(2026, 11, 2, 9))) == [169, 168]
    assert on_call(weekly, berlin(2026, 10, 26, 8, 59)) == "anna"
    assert on_call(weekly, berlin(2026, 10, 26, 9)) == "ben"


def test_a_custom_rotation_counts_real_hours_so_its_handoff_moves_on_the_clock():
    # 12-hour shifts from 21:00 New York time on the eve of the spring change
    nights = schedule(
        "America/New_York", layer(Rotation.CUSTOM, datetime(2026, 3, 7, 21), "alice", "bob", length_hours=12)
    )

    found = shifts(nights, ny(2026, 3, 7, 21), ny(2026, 3, 9, 0))

    assert lengths(found)[:2] == [12, 12]
    assert found[0].end == ny(2026, 3, 8, 10)  # not 09:00: twelve real hours after 21:00 EST
    assert found[1].end == ny(2026, 3, 8, 22)


def test_a_handoff_at_a_time_the_clocks_skip_is_read_with_the_offset_before_the_change():
    # 02:30 does not exist in New York on 8 March 2026: it is read as 02:30 EST, which is 03:30 EDT.
    primary = schedule("America/New_York", layer(Rotation.DAILY, datetime(2026, 3, 6, 2, 30), "alice", "bob"))

    found = shifts(primary, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))

    assert [shift.start for shift in found[1:]] == [utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]
    assert found[1].start.astimezone(NEW_YORK).hour == 3


def test_nobody_is_on_call_before_the_first_handoff():
    primary = schedule("America/New_York", layer(Rotation.WEEKLY, datetime(2026, 1, 5, 9), "alice", "bob"))

    assert on_call(primary, ny(2026, 1, 5, 8, 59)) is None
    assert on_call(primary, ny(2026, 1, 5, 9)) == "alice"
    assert shifts(primary, ny(2026, 1, 1), ny(2026, 1, 5, 9)) == []
    assert shifts(primary, ny(2026, 1, 1), ny(2026, 1, 6)) == [Shift("alice", ny(2026, 1, 5, 9), ny(2026, 1, 6))]


# ---- layers and restrictions ------------------------------------------------------------------------------

WEEKDAY_DAYTIME = (Restriction(time(9), time(17), (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)),)


def test_a_later_layer_wins_where_it_has_someone_and_the_earlier_one_fills_the_rest():
    # GIVEN a weekly base layer, and over it a daytime layer restricted to weekdays 09:00-17:00
    primary = schedule(
        "America/New_York",
        layer(Rotation.WEEKLY, datetime(2026, 1, 5, 9), "alice", name="base"),
        layer(Rotation.DAILY, datetime(2026, 1, 5, 9), "bob", "carol", restrict=WEEKDAY_DAYTIME, name="day"),
    )

    # WHEN Friday to Monday is laid out
    found = shifts(primary, ny(2026, 1, 9, 0), ny(2026, 1, 13, 0))

    # THEN the daytime layer has Friday and Monday daytime, alice everything else
    assert found == [
        Shift("alice", ny(2026, 1, 9, 0), ny(2026, 1, 9, 9)),
        Shift("bob", ny(2026, 1, 9, 9), ny(2026, 1, 9, 17)),  # day 4 of the daily bob, carol rotation
        Shift("alice", ny(2026, 1, 9, 17), ny(2026, 1, 12, 9)),
        Shift("carol", ny(2026, 1, 12, 9), ny(2026, 1, 12, 17)),  # day 7
        Shift("alice", ny(2026, 1, 12, 17), ny(2026, 1, 13, 0)),
    ]
    assert on_call(primary, ny(2026, 1, 10, 12)) == "alice"  # Saturday: the daytime layer has nobody
    assert on_call(primary, ny(2026, 1, 12, 16, 59)) == "carol"
    assert on_call(primary, ny(2026, 1, 12, 17)) == "alice"  # a window's end is exclusive


def test_a_restricted_layer_alone_leaves_gaps_and_a_window_past_midnight_belongs_to_its_start_day():
    # Nights from 22:00 to 06:00, starting on Fridays only: Friday 22:00 to Saturday 06:00.
    nights = schedule(
        "Europe/Berlin",
        layer(
            Rotation.WEEKLY,
            datetime(2026, 1, 5, 9),
            "anna",
            restrict=(Restriction(time(22), time(6), (Weekday.FRI,)),),
        ),
    )

    assert shifts(nights, berlin(2026, 1, 5), berlin(2026, 1, 19)) == [
        Shift("anna", berlin(2026, 1, 9, 22), berlin(2026, 1, 10, 6)),
        Shift("anna", berlin(2026, 1, 16, 22), berlin(2026, 1, 17, 6)),
    ]
    assert on_call(nights, berlin(2026, 1, 10, 5, 59)) == "anna"
    assert on_call(nights, berlin(2026, 1, 10, 22)) is None  # Saturday night: not a start day


def test_a_restriction_window_is_wall_clock_time_across_dst():
    # 09:00-17:00 every day in New York: 14:00-22:00 UTC in winter, 13:00-21:00 UTC in summer.
    primary = schedule(
        "America/New_York",
        layer(Rotation.WEEKLY, datetime(2026, 1, 5, 9), "alice", restrict=(Restriction(time(9), time(17)),)),
    )

    assert shifts(primary, utc(2026, 3, 7), utc(2026, 3, 9)) == [
        Shift("alice", utc(2026, 3, 7, 14), utc(2026, 3, 7, 22)),
        Shift("alice", utc(2026, 3, 8, 13), utc(2026, 3, 8, 21)),
    ]


def test_adjacent_shifts_of_the_same_person_are_one():
    primary = schedule("UTC", layer(Rotation.DAILY, datetime(2026, 1, 5, 9), "alice", "alice", "bob"))

    assert shifts(primary, utc(2026, 1, 5, 9), utc(2026, 1, 9, 9)) == [
        Shift("alice", utc(2026, 1, 5, 9), utc(2026, 1, 7, 9)),
        Shift("bob", utc(2026, 1, 7, 9), utc(2026, 1, 8, 9)),
        Shift("alice", utc(2026, 1, 8, 9), utc(2026, 1, 9, 9)),
    ]


# ---- overrides --------------------------------------------------------------------------------------------


def test_an_override_replaces_whoever_is_on_call_from_its_start_inclusive_to_its_end_exclusive():
    primary = schedule(
        "America/New_York",
        layer(Rotation.WEEKLY, datetime(2026, 12, 21, 9), "alice", "bob"),
        layer(Rotation.DAILY, datetime(2026, 12, 21, 9), "carol", restrict=(Restriction(time(0), time(6)),)),
        overrides=(Override("dave", datetime(2026, 12, 24, 9), datetime(2026, 12, 26, 9)),),
    )

    assert on_call(primary, ny(2026, 12, 24, 8, 59)) == "alice"
    assert on_call(primary, ny(2026, 12, 24, 9)) == "dave"
    assert on_call(primary, ny(2026, 12, 25, 3)) == "dave"  # over every layer, the restricted one included
    assert on_call(primary, ny(2026, 12, 26, 8, 59)) == "dave"
    assert on_call(primary, ny(2026, 12, 26, 9)) == "alice"
    assert shifts(primary, ny(2026, 12, 24), ny(2026, 12, 27)) == [
        Shift("carol", ny(2026, 12, 24, 0), ny(2026, 12, 24, 6)),
        Shift("alice", ny(2026, 12, 24, 6), ny(2026, 12, 24, 9)),
        Shift("dave", ny(2026, 12, 24, 9), ny(2026, 12, 26, 9)),
        Shift("alice", ny(2026, 12, 26, 9), ny(2026, 12, 27, 0)),
    ]


def test_an_override_fills_a_gap_and_the_later_of_two_overlapping_overrides_wins():
    primary = schedule(
        "UTC",
        layer(Rotation.DAILY, datetime(2026, 1, 5), "alice", restrict=(Restriction(time(9), time(17)),)),
        overrides=(
            Override("bob", datetime(2026, 1, 5, 16), datetime(2026, 1, 5, 20)),
            Override("carol", datetime(2026, 1, 5, 19), datetime(2026, 1, 5, 21)),
        ),
    )

    assert shifts(primary, utc(2026, 1, 5, 9), utc(2026, 1, 6)) == [
        Shift("alice", utc(2026, 1, 5, 9), utc(2026, 1, 5, 16)),
        Shift("bob", utc(2026, 1, 5, 16), utc(2026, 1, 5, 19)),
        Shift("carol", utc(2026, 1, 5, 19), utc(2026, 1, 5, 21)),
    ]
    assert on_call(primary, utc(2026, 1, 5, 21)) is None


def test_an_override_before_the_first_handoff_still_counts():
    primary = schedule(
        "UTC",
        layer(Rotation.WEEKLY, datetime(2026, 1, 5, 9), "alice"),
        overrides=(Override("bob", datetime(2026, 1, 1), datetime(2026, 1, 2)),),
    )

    assert on_call(primary, utc(2026, 1, 1, 12)) == "bob"
    assert shifts(primary, utc(2025, 12, 31), utc(2026, 1, 6)) == [
        Shift("bob", utc(2026, 1, 1), utc(2026, 1, 2)),
        Shift("alice", utc(2026, 1, 5, 9), utc(2026, 1, 6)),
    ]


# ---- the edges of the API ---------------------------------------------------------------------------------


def test_times_must_be_aware_and_an_empty_window_has_no_shifts():
    primary = schedule("UTC", layer(Rotation.DAILY, datetime(2026, 1, 5), "alice"))

    with pytest.raises(ValueError, match="at must be an aware datetime"):
        on_call(primary, datetime(2026, 1, 6))
    with pytest.raises(ValueError, match="start must be an aware datetime"):
        shifts(primary, datetime(2026, 1, 6), utc(2026, 1, 7))
    assert shifts(primary, utc(2026, 1, 7), utc(2026, 1, 7)) == []
    assert shifts(primary, utc(2026, 1, 8), utc(2026, 1, 7)) == []


def test_shift_at_is_the_whole_merged_shift_around_an_instant():
    primary = schedule("America/New_York", layer(Rotation.WEEKLY, datetime(2026, 1, 5, 9), "alice", "bob"))

    assert shift_at(primary, ny(2026, 1, 14, 3)) == Shift("bob", ny(2026, 1, 12, 9), ny(2026, 1, 19, 9))
    assert shift_at(primary, ny(2026, 1, 1)) is None


def test_resolve_targets_pages_each_person_once_in_order():
    config = load_config(SHIPPED)
    at = ny(2026, 1, 7, 12)  # the first week: alice is primary, dave secondary
    targets = [
        Target(TargetKind.SCHEDULE, "primary"),
        Target(TargetKind.USER, "bob"),
        Target(TargetKind.SCHEDULE, "secondary"),
        Target(TargetKind.USER, "alice"),
    ]

    assert resolve_targets(targets, config, at) == ["alice", "bob", "dave"]
    # The SEV1 policy pages the primary first, then the secondary (level 2).
    sev1 = config.policy_for_severity("SEV1").levels
    assert [resolve_targets(level.targets, config, at) for level in sev1[:2]] == [["alice"], ["dave"]]
    # At 03:00 New York time Europe covers the night on primary.
    assert resolve_targets(targets[:1], config, ny(2026, 1, 7, 3)) == ["carol"]


def test_resolve_targets_skips_a_schedule_with_nobody_on_call():
    config = load_config_text(
        textwrap.dedent(
            """\
            users:
              alice: {email: alice@example.com}
            schedules:
              later:
                time_zone: UTC
                layers: [{name: a, rotation: daily, handoff: "2030-01-01T00:00", participants: [alice]}]
            """
        ),
        "siren.yaml",
    )

    assert resolve_targets([Target(TargetKind.SCHEDULE, "later")], config, utc(2026, 1, 1)) == []


# ---- siren oncall -----------------------------------------------------------------------------------------


def run(*args: str, config: Path = SHIPPED) -> tuple[int, str, str]:
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = CliContext(config_path=config)

    register(app)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_siren_oncall_lists_every_schedule_with_until_when():
    code, out, _ = run("oncall", "--at", "2026-12-25T12:00Z", "--json")

    assert code == 0
    assert json.loads(out) == [
        {"schedule": "primary", "user": "erin", "name": "Erin Walsh", "until": "2026-12-26T09:00-05:00"},
        {"schedule": "secondary", "user": "alice", "name": "Alice Martin", "until": "2026-12-28T09:00-05:00"},
        {"schedule": "incident-commander", "user": "bob", "name": "Bob Okafor", "until": "2026-12-28T10:00+01:00"},
        {"schedule": "comms-lead", "user": "frank", "name": "Frank Osei", "until": "2026-12-25T19:00+00:00"},
    ]


def test_siren_oncall_for_one_schedule_as_a_table():
    code, out, _ = run("oncall", "--schedule", "primary", "--at", "2026-12-25T07:00-05:00")

    assert code == 0
    assert "Erin Walsh (erin)" in out
    assert "+14255550105" in out
    assert "secondary" not in out


def test_siren_oncall_with_nobody_on_call(tmp_path: Path):
    path = tmp_path / "siren.yaml"
    path.write_text(
        "users: {alice: {email: alice@example.com}}\n"
        "schedules:\n"
        "  later:\n"
        "    time_zone: UTC\n"
        '    layers: [{name: a, rotation: daily, handoff: "2030-01-01T00:00", participants: [alice]}]\n'
    )

    code, out, _ = run("oncall", "--json", "--at", "2026-01-01T00:00Z", config=path)

    assert code == 0
    assert json.loads(out) == [{"schedule": "later", "user": None, "name": None, "until": None}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--schedule", "tertiary"),
            "siren: error: no schedule 'tertiary' in the config (schedules: primary, secondary, incident-commander,"
            " comms-lead)",
        ),
        (
            ("--at", "tomorrow"),
            "siren: error: --at must be an ISO 8601 date-time such as 2026-03-08T09:00-05:00, got 'tomorrow'",
        ),
        (
            ("--at", "2026-03-08T09:00"),
            "siren: error: --at needs an offset or Z (the schedules are in different time zones), got"
            " '2026-03-08T09:00'",
        ),
    ],
)
def test_siren_oncall_refuses_bad_input_in_one_line(args: tuple[str, ...], message: str):
    code, out, err = run("oncall", *args)

    assert code == 2
    assert out == ""
    assert err.strip() == message
