"""``siren oncall ical``: the calendar is read back with the library that wrote it and checked against the domain's
own answer (:func:`siren.domain.oncall.on_call`) at sampled instants, across the DST changes of New York and Berlin.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from icalendar import Calendar, Event
from typer.testing import CliRunner

from siren.config import load_config
from siren.domain.oncall import SHIFT_HORIZON, on_call
from siren_cli.context import CliContext
from siren_cli.oncall_cmd import register

SHIPPED = Path(__file__).resolve().parents[2] / "siren.yaml"
SUMMARY = re.compile(r"On call: (?P<schedule>\S+) \((?P<user>[^)]+)\)")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def run(*args: str, config: Path = SHIPPED) -> tuple[int, bytes, str]:
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = CliContext(config_path=config)

    register(app)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout_bytes, result.stderr


def export(*args: str, config: Path = SHIPPED) -> Calendar:
    code, out, err = run("oncall", "ical", *args, config=config)
    assert code == 0, err
    return Calendar.from_ical(out)


def who(event: Event) -> tuple[str, str]:
    match = SUMMARY.fullmatch(str(event["SUMMARY"]))
    assert match, event["SUMMARY"]
    return match["schedule"], match["user"]


def starts(event: Event) -> datetime:
    """DTSTART, which Siren writes as a UTC date-time."""
    moment = event.DTSTART
    assert isinstance(moment, datetime)
    assert moment.utcoffset() == timedelta(0)
    return moment


def ends(event: Event) -> datetime:
    moment = event.DTEND
    assert isinstance(moment, datetime)
    assert moment.utcoffset() == timedelta(0)
    return moment


def by_schedule(calendar: Calendar) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = {}
    for event in calendar.events:
        found.setdefault(who(event)[0], []).append(event)
    return found


def user_in_calendar(events: list[Event], moment: datetime) -> str | None:
    covering = [who(event)[1] for event in events if starts(event) <= moment < ends(event)]
    assert len(covering) <= 1, f"overlapping shifts at {moment}: {covering}"
    return covering[0] if covering else None


def write_config(tmp_path: Path, schedules: str) -> Path:
    path = tmp_path / "siren.yaml"
    path.write_text(
        "users:\n"
        "  alice: {name: Alice Martin, email: alice@example.com}\n"
        "  bob: {email: bob@example.com}\n"
        "schedules:\n" + textwrap.indent(textwrap.dedent(schedules), "  ")
    )
    return path


# ---- the calendar says what the domain says ---------------------------------------------------------------


def test_every_schedule_matches_the_domain_hour_by_hour_and_at_each_handoff_across_both_dst_changes():
    # GIVEN the shipped schedules (New York, Berlin, UTC) over six weeks holding both spring-forward changes
    # (New York on 8 March, Berlin on 29 March 2026)
    config = load_config(SHIPPED)
    start, days = utc(2026, 3, 1), 42

    # WHEN they are exported and read back
    calendar = export("--from", start.isoformat(), "--days", str(days))

    # THEN every schedule has events, and at every hour and either side of every event boundary the calendar
    # names whoever the domain says is on call
    events = by_schedule(calendar)
    assert set(events) == set(config.schedules)
    end = start + timedelta(days=days)
    for name, schedule in config.schedules.items():
        boundaries = {t for event in events[name] for t in (starts(event), ends(event))}
        samples = {start + timedelta(hours=h) for h in range(days * 24)}
        samples |= {t + delta for t in boundaries for delta in (timedelta(0), -timedelta(seconds=1))}
        for moment in sorted(t for t in samples if start <= t < end):
            assert user_in_calendar(events[name], moment) == on_call(schedule, moment), (name, moment)


def test_handoffs_stay_on_the_local_clock_across_dst_and_times_are_written_in_utc():
    # GIVEN secondary (New York, Mondays 09:00) and incident-commander (Berlin, Mondays 10:00)
    calendar = export("--from", "2026-03-01T00:00Z", "--days", "35")
    events = by_schedule(calendar)

    # THEN the handoffs move by an hour in UTC when each zone changes its clocks
    secondary_starts = [starts(event) for event in events["secondary"]]
    assert utc(2026, 3, 2, 14) in secondary_starts  # 09:00 EST
    assert utc(2026, 3, 9, 13) in secondary_starts  # 09:00 EDT, the day after spring-forward
    commander_starts = [starts(event) for event in events["incident-commander"]]
    assert utc(2026, 3, 23, 9) in commander_starts  # 10:00 CET
    assert utc(2026, 3, 30, 8) in commander_starts  # 10:00 CEST, the day after spring-forward
    # and every DTSTART/DTEND is a UTC time ("Z"), whatever the schedule's zone
    text = calendar.to_ical().decode()
    assert re.findall(r"^DTSTART:\d{8}T\d{6}Z\r$", text, flags=re.MULTILINE)
    assert not re.findall(r"^DT(START|END);TZID", text, flags=re.MULTILINE)


def test_a_user_calendar_holds_their_shifts_on_every_schedule_and_nobody_elses():
    config = load_config(SHIPPED)
    start, days = utc(2026, 12, 20), 14

    calendar = export("--user", "erin", "--from", start.isoformat(), "--days", str(days))

    assert str(calendar["X-WR-CALNAME"]) == "Siren on call: Erin Walsh (erin)"
    events = by_schedule(calendar)
    assert {user for event in calendar.events for _, user in [who(event)]} == {"erin"}
    # erin is on primary (covering Christmas), secondary and comms-lead in those two weeks, never commanding
    assert set(events) == {"primary", "secondary", "comms-lead"}
    for name, schedule in config.schedules.items():
        for hour in range(days * 24):
            moment = start + timedelta(hours=hour)
            expected = "erin" if on_call(schedule, moment) == "erin" else None
            assert user_in_calendar(events.get(name, []), moment) == expected, (name, moment)


def test_a_schedule_calendar_has_everyone_on_that_schedule_only():
    primary = load_config(SHIPPED).schedules["primary"]
    start = utc(2026, 12, 21, 14)  # Monday 09:00 in New York: Dave's week

    calendar = export("--schedule", "primary", "--from", start.isoformat(), "--days", "7")

    assert str(calendar["X-WR-CALNAME"]) == "Siren on call: primary"
    assert set(by_schedule(calendar)) == {"primary"}
    # Europe covers the US nights, Erin covers Christmas for Dave: several people in one week, as the domain says
    people = {who(event)[1] for event in calendar.events}
    assert people == {"dave", "erin", "carol"}
    assert people == {on_call(primary, start + timedelta(minutes=30 * n)) for n in range(7 * 48)}


def test_the_calendar_names_itself_and_its_product_and_stamps_each_event():
    calendar = export("--from", "2026-03-01T00:00Z", "--days", "2")

    assert str(calendar["PRODID"]) == "-//Siren//On-call shifts//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "Siren on call"
    for event in calendar.events:
        assert event.DTSTAMP is not None
        assert event.DTSTAMP.tzinfo is not None
        assert event["UID"]


# ---- stable UIDs ------------------------------------------------------------------------------------------


def test_two_exports_from_different_moments_give_the_same_shift_the_same_uid_and_start():
    # GIVEN two exports, the second begun in the middle of shifts that the first one also holds
    first = export("--from", "2026-03-01T00:00Z", "--days", "14")
    second = export("--from", "2026-03-04T17:23Z", "--days", "20")

    def keyed(calendar: Calendar) -> dict[tuple[str, str, datetime], str]:
        return {(*who(event), starts(event)): str(event["UID"]) for event in calendar.events}

    # THEN a shift running when the second export begins keeps its real start (it is not clipped to --from) ...
    common = keyed(first).keys() & keyed(second).keys()
    running = [key for key in keyed(second) if key[2] < utc(2026, 3, 4, 17, 23)]
    assert running, "the second export begins in the middle of shifts"
    assert set(running) <= common
    # ... and every shift in both exports has one UID in both, all UIDs being distinct
    assert len(common) > 10
    assert all(keyed(first)[key] == keyed(second)[key] for key in common)
    assert len(set(keyed(second).values())) == len(second.events)


def test_a_shift_that_began_long_before_the_export_still_starts_at_its_handoff(tmp_path: Path):
    # GIVEN a rotation of 60-day shifts (longer than the domain's look-around horizon), alice's from 1 January
    config = write_config(
        tmp_path,
        """
        long:
          time_zone: Europe/Berlin
          layers:
            - name: long
              rotation: custom
              length_hours: 1440
              handoff: "2026-01-01T00:00"
              participants: [alice, bob]
        """,
    )
    assert timedelta(hours=1440) > 2 * SHIFT_HORIZON

    # WHEN it is exported from late in alice's shift, on two days
    one = export("--from", "2026-02-25T00:00Z", "--days", "3", config=config)
    other = export("--from", "2026-02-26T12:00Z", "--days", "10", config=config)

    # THEN alice's shift starts when it really did (midnight in Berlin) and ends at bob's handoff, in both
    assert [(who(e)[1], starts(e), ends(e)) for e in one.events] == [
        ("alice", utc(2025, 12, 31, 23), utc(2026, 3, 1, 23)),
    ]
    assert [(who(e)[1], starts(e)) for e in other.events] == [
        ("alice", utc(2025, 12, 31, 23)),
        ("bob", utc(2026, 3, 1, 23)),
    ]
    assert one.events[0]["UID"] == other.events[0]["UID"]


def test_a_shift_without_a_handoff_in_sight_ends_with_the_export_and_keeps_its_uid(tmp_path: Path):
    # GIVEN a schedule with one person on it: the shift never ends
    config = write_config(
        tmp_path,
        """
        solo:
          time_zone: UTC
          layers:
            - {name: solo, rotation: weekly, handoff: "2026-01-05T09:00", participants: [alice]}
        """,
    )

    one = export("--from", "2026-03-01T00:00Z", "--days", "7", config=config)
    other = export("--from", "2026-03-02T00:00Z", "--days", "30", config=config)

    # THEN it is shown from its first handoff to the end of each export, said so, under one UID
    assert [(starts(e), ends(e)) for e in one.events] == [(utc(2026, 1, 5, 9), utc(2026, 3, 8))]
    assert [(starts(e), ends(e)) for e in other.events] == [(utc(2026, 1, 5, 9), utc(2026, 4, 1))]
    assert "goes on past the exported period" in str(one.events[0]["DESCRIPTION"])
    assert one.events[0]["UID"] == other.events[0]["UID"]


# ---- one event per contiguous shift -----------------------------------------------------------------------


def test_adjacent_slots_of_one_person_are_one_event(tmp_path: Path):
    # GIVEN a daily rotation that gives alice two days in a row, then bob, and an override that hands bob's
    # day to alice straight after her own two
    config = write_config(
        tmp_path,
        """
        daily:
          time_zone: America/New_York
          layers:
            - {name: daily, rotation: daily, handoff: "2026-03-06T09:00", participants: [alice, alice, bob]}
          overrides:
            - {user: alice, start: "2026-03-08T09:00", end: "2026-03-08T21:00"}
        """,
    )

    calendar = export("--from", "2026-03-06T14:00Z", "--days", "4", config=config)

    # THEN alice's two rotation days and the override (across spring-forward) are one event, then bob's half day
    assert [(*who(e), starts(e), ends(e)) for e in calendar.events] == [
        ("daily", "alice", utc(2026, 3, 6, 14), utc(2026, 3, 9, 1)),  # 09:00 EST to 21:00 EDT
        ("daily", "bob", utc(2026, 3, 9, 1), utc(2026, 3, 9, 13)),
        ("daily", "alice", utc(2026, 3, 9, 13), utc(2026, 3, 11, 13)),
    ]


def test_writes_the_file_given_with_output(tmp_path: Path):
    target = tmp_path / "shifts.ics"

    code, out, _ = run(
        "oncall",
        "ical",
        "--schedule",
        "comms-lead",
        "--from",
        "2026-03-01T07:00Z",
        "--days",
        "2",
        "--output",
        str(target),
    )

    assert code == 0
    assert b"Wrote 4 shifts" in out
    assert [who(e)[1] for e in Calendar.from_ical(target.read_bytes()).events] == ["frank", "erin", "frank", "erin"]


# ---- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--user", "zed"), "no user 'zed' in the config (users: alice, bob, carol, dave, erin, frank)"),
        (
            ("--schedule", "tertiary"),
            "no schedule 'tertiary' in the config (schedules: primary, secondary, incident-commander, comms-lead)",
        ),
        (
            ("--user", "alice", "--schedule", "primary"),
            "--user and --schedule cannot be combined: --user already covers every schedule",
        ),
        (("--days", "0"), "--days must be between 1 and 366, got 0"),
        (("--days", "400"), "--days must be between 1 and 366, got 400"),
        (
            ("--from", "2026-03-08T09:00"),
            "--from needs an offset or Z (the schedules are in different time zones), got '2026-03-08T09:00'",
        ),
        (("--from", "soon"), "--from must be an ISO 8601 date-time such as 2026-03-08T09:00-05:00, got 'soon'"),
    ],
)
def test_bad_input_is_refused_in_one_line_with_nothing_written(args: tuple[str, ...], message: str):
    code, out, err = run("oncall", "ical", *args)

    assert code == 2
    assert out == b""
    assert err.strip() == f"siren: error: {message}"


def test_an_unwritable_output_is_one_line_too(tmp_path: Path):
    code, _, err = run("oncall", "ical", "--output", str(tmp_path / "missing" / "shifts.ics"))

    assert code == 1
    assert err.startswith(f"siren: error: cannot write {tmp_path / 'missing' / 'shifts.ics'}")
