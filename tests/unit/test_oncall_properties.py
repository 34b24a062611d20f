"""Who is on call, as properties: any rotation, layer stack and overrides, in zones with DST and without.

GIVEN a generated schedule and window (often one that spans a DST change), THEN shifts() is a clean timeline
(ordered, no overlap, merged), tiles the window exactly when a full-time layer started before it, agrees with
on_call() at every instant sampled, and honours every override throughout its range.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from siren.domain.oncall import Shift, on_call, shifts
from siren.domain.policy import Override, Restriction, Rotation, Schedule, ScheduleLayer, Weekday

ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC")
PEOPLE = ("alice", "bob", "carol", "dave", "erin")
# Instants at which clocks changed in 2026 in the zones above (UTC): windows around them are where bugs hide.
DST_CHANGES = {
    "America/New_York": (datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)),
    "Europe/Berlin": (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)),
    "Australia/Sydney": (datetime(2026, 4, 4, 16, tzinfo=UTC), datetime(2026, 10, 3, 16, tzinfo=UTC)),
}
EPOCH = datetime(2026, 1, 1)
PROFILE = settings(max_examples=150, deadline=None)

zones = st.sampled_from(ZONES)
# Wall-clock times within 2026, on a quarter hour; some fall in the hour a DST change skips or repeats.
local_times = st.integers(min_value=0, max_value=365 * 24 * 4).map(
    lambda quarters: EPOCH + quarters * timedelta(minutes=15)
)
times_of_day = st.integers(min_value=0, max_value=24 * 4 - 1).map(
    lambda quarters: time(quarters // 4, quarters % 4 * 15)
)
restrictions = st.builds(
    Restriction,
    start=times_of_day,
    end=times_of_day,
    days=st.sets(st.sampled_from(Weekday), min_size=1).map(lambda days: tuple(day for day in Weekday if day in days)),
)


@st.composite
def layers(draw: st.DrawFn, *, full_time: bool = False, handoff_before: datetime | None = None) -> ScheduleLayer:
    rotation = draw(st.sampled_from(Rotation))
    handoff = draw(local_times)
    if handoff_before is not None:
        handoff = handoff_before - draw(st.integers(min_value=1, max_value=60 * 24 * 60)) * timedelta(minutes=1)
    return ScheduleLayer(
        name=draw(st.sampled_from(("base", "day", "night"))),
        rotation=rotation,
        handoff=handoff,
        participants=tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4))),
        length_hours=draw(st.integers(min_value=1, max_value=72)) if rotation is Rotation.CUSTOM else None,
        restrict=None if full_time else draw(st.none() | st.lists(restrictions, min_size=1, max_size=2).map(tuple)),
    )


@st.composite
def overrides(draw: st.DrawFn) -> Override:
    start = draw(local_times)
    length = draw(st.integers(min_value=1, max_value=5 * 24 * 4)) * timedelta(minutes=15)
    return Override(draw(st.sampled_from(PEOPLE)), start, start + length)


@st.composite
def windows(draw: st.DrawFn, zone: str) -> tuple[datetime, datetime]:
    """A window of 1 hour to 3 weeks: anywhere in 2026, or around one of the zone's DST changes."""
    length = draw(st.integers(min_value=4, max_value=21 * 24 * 4)) * timedelta(minutes=15)
    changes = DST_CHANGES.get(zone, ())
    if changes and draw(st.booleans()):
        change = draw(st.sampled_from(changes))
        start = change - draw(st.integers(min_value=0, max_value=len_in_minutes(length))) * timedelta(minutes=1)
    else:
        start = draw(local_times).replace(tzinfo=UTC) + draw(st.integers(0, 14)) * timedelta(minutes=1)
    return start, start + length


def len_in_minutes(length: timedelta) -> int:
    return int(length / timedelta(minutes=1))


@st.composite
def cases(draw: st.DrawFn, *, full_time: bool = False) -> tuple[Schedule, datetime, datetime]:
    """A schedule and a window; with ``full_time``, its bottom layer covers all time from before the window."""
    zone = draw(zones)
    start, end = draw(windows(zone))
    stack = draw(st.lists(layers(), min_size=0 if full_time else 1, max_size=3))
    if full_time:
        # An hour's margin: a handoff in the hour a DST change skips is read an hour later (02:59 -> 03:59 new
        # time), so a wall-clock handoff just before the window's local start can begin after the window does.
        local_start = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None) - timedelta(hours=1)
        stack.insert(draw(st.integers(0, len(stack))), draw(layers(full_time=True, handoff_before=local_start)))
    schedule = Schedule("generated", zone, tuple(stack), tuple(draw(st.lists(overrides(), max_size=3))))
    return schedule, start, end


def check_timeline(found: list[Shift], start: datetime, end: datetime) -> None:
    for shift in found:
        assert start <= shift.start < shift.end <= end, shift
    for earlier, later in pairwise(found):
        assert earlier.end <= later.start, (earlier, later)  # ordered, no overlap
        assert not (earlier.end == later.start and earlier.user == later.user), (earlier, later)  # merged


def sampled_instants(found: list[Shift], start: datetime, end: datetime, fractions: list[float]) -> list[datetime]:
    """Every edge of the timeline (and just before it) plus points spread over the window."""
    second = timedelta(seconds=1)
    edges = [moment for shift in found for moment in (shift.start, shift.end - second, shift.end)]
    spread = [start + (end - start) * fraction for fraction in fractions]
    return [moment for moment in [start, end - second, *edges, *spread] if start <= moment < end]


def covering(found: list[Shift], moment: datetime) -> str | None:
    return next((shift.user for shift in found if shift.start <= moment < shift.end), None)


@PROFILE
@given(cases(full_time=True))
def test_with_a_full_time_layer_the_shifts_tile_the_window_exactly(case: tuple[Schedule, datetime, datetime]):
    schedule, start, end = case

    found = shifts(schedule, start, end)

    check_timeline(found, start, end)
    assert found[0].start == start
    assert found[-1].end == end
    assert all(earlier.end == later.start for earlier, later in pairwise(found))  # no gap


@PROFILE
@given(cases(), st.lists(st.floats(min_value=0, max_value=1), max_size=20))
def test_on_call_agrees_with_shifts_at_every_sampled_instant(
    case: tuple[Schedule, datetime, datetime], fractions: list[float]
):
    schedule, start, end = case

    found = shifts(schedule, start, end)

    check_timeline(found, start, end)
    for moment in sampled_instants(found, start, end, fractions):
        assert on_call(schedule, moment) == covering(found, moment), moment
        # The same instant written in the schedule's own zone is the same instant.
        assert on_call(schedule, moment.astimezone(ZoneInfo(schedule.time_zone))) == covering(found, moment)


@PROFILE
@given(cases(), st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=10))
def test_the_last_override_is_on_call_throughout_its_range(
    case: tuple[Schedule, datetime, datetime], fractions: list[float]
):
    schedule, _, _ = case
    override = Override("zoe", datetime(2026, 3, 7, 18), datetime(2026, 3, 9, 6))  # across the US spring change
    schedule = Schedule(schedule.name, schedule.time_zone, schedule.layers, (*schedule.overrides, override))
    zone = ZoneInfo(schedule.time_zone)
    start = override.start.replace(tzinfo=zone).astimezone(UTC)
    end = override.end.replace(tzinfo=zone).astimezone(UTC)

    assert shifts(schedule, start, end) == [Shift("zoe", start, end)]
    for fraction in fractions:
        assert on_call(schedule, start + (end - start) * fraction * 0.999999) == "zoe"
    assert on_call(schedule, end) != "zoe"


@PROFILE
@given(cases(full_time=True))
def test_splitting_the_window_changes_nothing_but_the_cut(case: tuple[Schedule, datetime, datetime]):
    schedule, start, end = case
    middle = start + (end - start) / 3

    whole = shifts(schedule, start, end)
    halves = shifts(schedule, start, middle) + shifts(schedule, middle, end)

    # Joining the two halves back at the cut gives the whole.
    joined: list[Shift] = []
    for shift in halves:
        if joined and joined[-1].user == shift.user and joined[-1].end == shift.start:
            joined[-1] = Shift(shift.user, joined[-1].start, shift.end)
        else:
            joined.append(shift)
    assert joined == whole


@PROFILE
@given(zones, st.sampled_from((Rotation.DAILY, Rotation.WEEKLY)), local_times, st.integers(0, 300))
def test_daily_and_weekly_handoffs_keep_their_wall_clock_time(
    zone_name: str, rotation: Rotation, handoff: datetime, days_later: int
):
    zone = ZoneInfo(zone_name)
    schedule = Schedule("s", zone_name, (ScheduleLayer("l", rotation, handoff, ("alice", "bob")),))
    start = handoff.replace(tzinfo=zone).astimezone(UTC) + timedelta(days=days_later)

    found = shifts(schedule, start, start + timedelta(days=15))

    for shift in found[1:]:
        local = shift.start.astimezone(zone)
        expected = handoff.time()
        exists = local.replace(tzinfo=None).time() == expected
        # A handoff at a wall-clock time the clocks skip that day starts at the first real instant after it.
        skipped = datetime.combine(local.date(), expected).replace(tzinfo=zone).astimezone(UTC) == shift.start
        assert exists or skipped, (shift, local)
        assert local.weekday() == handoff.weekday() or rotation is Rotation.DAILY
