"""Leadership reports: periods, the quantile sketch, the aggregation (hand-computed figures) and the email."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from siren.domain.durations import MAX_BUCKETS, DurationSketch
from siren.domain.records import ActionItemRecord
from siren.domain.reports import (
    DurationSummary,
    EscalationFacts,
    IncidentFacts,
    OffHours,
    PageFacts,
    Period,
    PeriodMetrics,
    Report,
    ReportBuilder,
    ReportError,
    change,
    parse_period,
)
from siren.render.report_email import humanize_duration, render_report

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday; 10:00 in Berlin
TODAY = date(2026, 11, 27)
WEEK = Period(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 27, tzinfo=UTC))  # Fri 20 .. Thu 26 Nov
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def utc(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def local(zone: str, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(zone))


def incident(
    incident_id: str, severity: str, service: str, opened: datetime, ack_s: float | None, resolve_s: float | None
) -> IncidentFacts:
    acknowledged = opened + timedelta(seconds=ack_s) if ack_s is not None else None
    resolved = opened + timedelta(seconds=resolve_s) if resolve_s is not None else None
    return IncidentFacts(incident_id, severity, service, opened, acknowledged, resolved)


# The week: six incidents (two SEV1, four SEV2; three on checkout, three on payments), and two that fall outside.
INCIDENTS = [
    incident("INC-1", "SEV1", "checkout", utc(21, 10), 120, 3600),
    incident("INC-2", "SEV1", "checkout", utc(22, 12), 240, 7200),
    incident("INC-3", "SEV2", "payments", utc(23, 8), 600, 1800),
    incident("INC-4", "SEV2", "checkout", utc(24, 15), 360, None),  # acknowledged, still open
    incident("INC-5", "SEV2", "payments", WEEK.start, None, None),  # opened at the very start: in
    incident("INC-6", "SEV2", "payments", utc(26, 6), -30, 900),  # acknowledged "before" opening: clock skew
    incident("INC-0", "SEV1", "checkout", utc(19, 23, 59), 60, 60),  # the day before: out
    incident("INC-7", "SEV1", "checkout", WEEK.end, 60, 60),  # at the (exclusive) end: out
]
# MTTA: 120, 240, 600, 360 (INC-6's negative one left out) -> mean 330, median 300, p90 360 + 0.7 * 240 = 528.
# MTTR: 3600, 7200, 1800, 900 -> mean 3375, median 2700, p90 3600 + 0.7 * 3600 = 6120.

PAGES = [
    PageFacts(local("America/New_York", 24, 23, 30), "alice", "America/New_York", "INC-4", "voice"),  # Tue night
    PageFacts(local("America/New_York", 23, 9, 0), "alice", "America/New_York", "INC-3", "sms"),  # Mon morning
    PageFacts(local("Europe/Berlin", 25, 10, 0), "bob", "Europe/Berlin", "INC-4", "sms"),  # Wed 10:00: working
    PageFacts(local("Europe/Berlin", 21, 12, 0), "bob", "Europe/Berlin", "INC-1", "email"),  # Saturday
    PageFacts(local("Asia/Tokyo", 26, 7, 59), "carol", "Asia/Tokyo", "INC-4", "sms"),  # a minute before 08:00
    # 08:00 in Tokyo is 23:00 UTC the day before: off-hours on a UTC clock, working hours on carol's.
    PageFacts(local("Asia/Tokyo", 26, 8, 0), "carol", "Asia/Tokyo", "INC-4", "sms"),
    PageFacts(local("Asia/Tokyo", 26, 18, 0), "carol", "Asia/Tokyo", "INC-6", "voice"),  # 18:00 sharp
    PageFacts(utc(25, 12), "erin", "Not/AZone", "INC-5", "sms"),  # an unknown zone reads as UTC: Wed noon
    PageFacts(utc(19, 22), "alice", "UTC", "INC-0", "sms"),  # before the week: out
    PageFacts(WEEK.end, "alice", "UTC", "INC-7", "sms"),  # at the end: out
]
ESCALATIONS = [EscalationFacts("INC-1", 3), EscalationFacts("INC-3", 2), EscalationFacts("INC-4", 1)]

# The week before: four incidents, each acknowledged in 5 minutes and resolved in an hour; four pages, one
# off-hours; one escalation.
PREVIOUS_INCIDENTS = [
    incident("INC-P1", "SEV1", "checkout", utc(14, 10), 300, 3600),
    incident("INC-P2", "SEV2", "payments", utc(15, 10), 300, 3600),
    incident("INC-P3", "SEV2", "payments", utc(16, 10), 300, 3600),
    incident("INC-P4", "SEV2", "payments", utc(17, 10), 300, 3600),
]
PREVIOUS_PAGES = [PageFacts(utc(16, 10), "dave", "UTC", "INC-P3", "sms") for _ in range(3)] + [
    PageFacts(utc(15, 10), "dave", "UTC", "INC-P2", "sms")  # a Sunday
]
PREVIOUS_ESCALATIONS = [EscalationFacts("INC-P1", 2)]


def action(item_id: str, due: date, done_at: datetime | None = None, owner: str = "bob") -> ActionItemRecord:
    return ActionItemRecord(item_id, "INC-1", f"Follow-up {item_id}", owner, due, utc(21, 12), "alice", done_at)


ACTIONS = [
    action("AI-1", date(2026, 11, 25)),  # open, two days late
    action("AI-2", date(2026, 11, 20), done_at=utc(22, 9)),  # done, within the week
    action("AI-3", date(2026, 12, 10)),  # open, not yet due
    action("AI-4", TODAY),  # due today: not yet overdue
    action("AI-5", date(2026, 11, 1), owner="carol"),  # open, long overdue
]


def metrics(
    period: Period,
    incidents: list[IncidentFacts],
    pages: list[PageFacts],
    escalations: list[EscalationFacts],
    actions: list[ActionItemRecord] | None = None,
) -> PeriodMetrics:
    builder = ReportBuilder(period, OffHours())
    for facts in incidents:
        builder.add_incident(facts)
    for page in pages:
        builder.add_page(page)
    for escalation in escalations:
        builder.add_escalation(escalation)
    return builder.finish(ACTIONS if actions is None else actions, TODAY)


def weekly_report() -> Report:
    current = metrics(WEEK, INCIDENTS, PAGES, ESCALATIONS)
    previous = metrics(WEEK.previous(), PREVIOUS_INCIDENTS, PREVIOUS_PAGES, PREVIOUS_ESCALATIONS)
    return Report(current=current, previous=previous, generated_at=NOW, title="Siren weekly incident report")


# -- periods -------------------------------------------------------------------------------------------------
def test_days_end_now_and_are_shown_in_the_report_zone() -> None:
    period = parse_period("7d", NOW, BERLIN)
    assert (period.start, period.end) == (NOW - timedelta(days=7), NOW)
    assert period.start.tzinfo == BERLIN and period.end.tzinfo == BERLIN
    assert parse_period(" 30D ", NOW, BERLIN).start == NOW - timedelta(days=30)
    assert parse_period("3660d", NOW, BERLIN).start == NOW - timedelta(days=3660)
    assert period.label == "20\u201327 Nov 2026"


def test_dates_are_midnights_in_the_zone_and_the_last_day_is_included() -> None:
    period = parse_period("2026-11-01..2026-11-15", NOW, BERLIN)
    assert period.start == datetime(2026, 11, 1, tzinfo=BERLIN) == utc(31, 23, month=10)
    assert period.end == datetime(2026, 11, 16, tzinfo=BERLIN) == utc(15, 23)
    assert period.label == "1\u201315 Nov 2026"
    one_day = parse_period("2026-11-02..2026-11-02", NOW, BERLIN)
    assert one_day.length == timedelta(days=1)
    assert one_day.label == "2 Nov 2026"


def test_a_period_up_to_today_ends_now() -> None:
    period = parse_period("2026-11-20..2026-11-27", NOW, BERLIN)
    assert period.start == datetime(2026, 11, 20, tzinfo=BERLIN)
    assert period.end == NOW


def test_iso_times_with_offsets() -> None:
    period = parse_period("2026-11-20T08:00:00Z..2026-11-21T08:00+01:00", NOW, BERLIN)
    assert (period.start, period.end) == (utc(20, 8), utc(21, 7))
    mixed = parse_period("2026-11-20..2026-11-21T06:30:00+00:00", NOW, BERLIN)
    assert (mixed.start, mixed.end) == (utc(19, 23), utc(21, 6, 30))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("last week", "cannot read the period 'last week'"),
        ("7", "cannot read the period '7'"),
        ("..2026-11-01", "cannot read the period"),
        ("2026-11-01..2026-11-05..2026-11-09", "cannot read the period"),
        ("0d", "1d to 3660d"),
        ("3661d", "1d to 3660d"),
        ("2026-13-01..2026-13-02", "'2026-13-01' is not a date"),
        ("yesterday..2026-11-02", "cannot read 'yesterday' as a date or an ISO time"),
        ("2026-11-20T08:00..2026-11-21T08:00", "'2026-11-20T08:00' needs a UTC offset"),
        ("2026-11-10..2026-11-01", "the period ends (2026-11-01) before it starts (2026-11-10)"),
        ("2026-11-20T10:00Z..2026-11-20T09:00Z", "the period ends (2026-11-20T09:00Z) before it starts"),
        ("2026-11-20T10:00Z..2026-11-20T10:00Z", "the period ends (2026-11-20T10:00Z) before it starts"),
        ("2026-12-01..2026-12-31", "the period ends (2026-12-31) after today (2026-11-27)"),
        ("2026-11-20..2026-11-28", "the period ends (2026-11-28) after today (2026-11-27)"),
        (
            "2026-11-27T10:00Z..2026-11-27T12:00Z",
            "the period ends (2026-11-27T12:00Z) after now (2026-11-27T10:00+01:00)",
        ),
    ],
)
def test_periods_that_cannot_be_reported(text: str, message: str) -> None:
    with pytest.raises(ReportError) as raised:
        parse_period(text, NOW, BERLIN)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_a_period_starting_now_is_refused() -> None:
    midnight = datetime(2026, 11, 27, tzinfo=BERLIN)
    with pytest.raises(ReportError, match=r"the period starts \(2026-11-27\) after now"):
        parse_period("2026-11-27..2026-11-27", midnight, BERLIN)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_period("7d", datetime(2026, 11, 27, 9, 0), BERLIN)


def test_a_period_checks_itself() -> None:
    with pytest.raises(ReportError, match="need a time zone"):
        Period(datetime(2026, 11, 20), datetime(2026, 11, 27))
    with pytest.raises(ReportError, match=r"ends \(2026-11-20T00:00\+00:00\) before it starts \(2026-11-27"):
        Period(utc(27), utc(20))
    with pytest.raises(ReportError, match="empty"):
        Period(utc(27), utc(27))


def test_the_previous_period_has_the_same_elapsed_length() -> None:
    assert WEEK.previous() == Period(utc(13), utc(20))
    assert WEEK.previous().label == "13\u201319 Nov 2026"
    # November in Berlin follows October's end of summer time: 30 days of 24 hours before 1 Nov 00:00 CET start
    # at 01:00 CEST on 2 Oct.
    november = Period(datetime(2026, 11, 1, tzinfo=BERLIN), datetime(2026, 12, 1, tzinfo=BERLIN))
    before = november.previous()
    assert before.end == november.start
    assert before.length == november.length == timedelta(days=30)
    assert before.start == datetime(2026, 10, 2, 1, 0, tzinfo=BERLIN)


def test_labels_across_months_and_years() -> None:
    assert Period(utc(28), utc(5, month=12)).label == "28 Nov \u2013 4 Dec 2026"
    new_year = Period(datetime(2026, 12, 28, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC))
    assert new_year.label == "28 Dec 2026 \u2013 3 Jan 2027"


# -- off-hours and action items ------------------------------------------------------------------------------
def test_off_hours_are_the_responders_own() -> None:
    evenings = OffHours()
    new_york = ZoneInfo("America/New_York")
    assert evenings.includes(local("America/New_York", 24, 23, 30), new_york)  # Tuesday night
    assert not evenings.includes(local("America/New_York", 24, 23, 30), ZoneInfo("Asia/Tokyo"))  # Wed 13:30 there
    assert evenings.includes(local("Europe/Berlin", 25, 18, 0), BERLIN)  # at the start
    assert not evenings.includes(local("Europe/Berlin", 25, 17, 59), BERLIN)
    assert not evenings.includes(local("Europe/Berlin", 25, 8, 0), BERLIN)  # at the end: working again
    assert evenings.includes(local("Europe/Berlin", 25, 7, 59), BERLIN)
    assert evenings.includes(local("Europe/Berlin", 21, 12, 0), BERLIN)  # Saturday
    assert not OffHours(weekend=False).includes(local("Europe/Berlin", 21, 12, 0), BERLIN)
    night_shift = OffHours(time(0, 0), time(6, 0), weekend=False)  # a window that does not wrap midnight
    assert night_shift.includes(local("Europe/Berlin", 25, 0, 0), BERLIN)
    assert not night_shift.includes(local("Europe/Berlin", 25, 6, 0), BERLIN)
    assert not night_shift.includes(local("Europe/Berlin", 25, 23, 0), BERLIN)
    weekends_only = OffHours(time(0, 0), time(0, 0), weekend=True)
    assert not weekends_only.includes(local("Europe/Berlin", 25, 3, 0), BERLIN)
    assert weekends_only.includes(local("Europe/Berlin", 22, 3, 0), BERLIN)


def test_an_action_item_is_overdue_the_day_after_it_is_due() -> None:
    item = action("AI-9", TODAY)
    assert not item.is_overdue(TODAY)
    assert item.is_overdue(TODAY + timedelta(days=1))
    assert not action("AI-9", TODAY, done_at=utc(20)).is_overdue(TODAY + timedelta(days=30))


# -- the sketch ------------------------------------------------------------------------------------------------
def exact_quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    if low == len(ordered) - 1:
        return ordered[low]
    return ordered[low] + (position - low) * (ordered[low + 1] - ordered[low])


QUANTILES = (0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)


@pytest.mark.parametrize(
    "draw",
    [
        pytest.param(lambda rng: math.exp(rng.uniform(0.0, math.log(30 * 86400))), id="log-uniform 1 s..30 d"),
        pytest.param(lambda rng: max(1.0, rng.lognormvariate(6.0, 1.5)), id="lognormal around 7 min"),
        pytest.param(lambda rng: rng.uniform(60.0, 7200.0), id="uniform 1 min..2 h"),
    ],
)
def test_the_sketch_is_within_one_percent_of_exact_quantiles(draw: Callable[[random.Random], float]) -> None:
    rng = random.Random(20261127)
    values = [draw(rng) for _ in range(10_000)]
    sketch = DurationSketch()
    for value in values:
        sketch.add(value)
    ordered = sorted(values)
    assert sketch.count == 10_000
    assert sketch.mean == pytest.approx(sum(values) / len(values), rel=1e-12)  # exact, but for float sums
    for q in QUANTILES:
        estimate = sketch.quantile(q)
        exact = exact_quantile(ordered, q)
        assert estimate is not None
        assert abs(estimate - exact) <= 0.01 * exact + 1e-9, (q, estimate, exact)
    assert sketch.quantile(0.0) == ordered[0] and sketch.quantile(1.0) == ordered[-1]
    assert sketch.buckets <= MAX_BUCKETS


def test_the_sketch_memory_does_not_grow_with_the_count() -> None:
    rng = random.Random(7)
    sketch = DurationSketch()
    for _ in range(50_000):
        sketch.add(math.exp(rng.uniform(-3.0, math.log(400 * 86400))))  # below 1 s to beyond a year
    assert sketch.buckets <= MAX_BUCKETS < 900
    assert sketch.count == 50_000


def test_sketches_merge_as_if_the_values_were_added_to_one() -> None:
    rng = random.Random(11)
    values = [rng.uniform(1.0, 86400.0) for _ in range(2_000)]
    whole, left, right = DurationSketch(), DurationSketch(), DurationSketch()
    for index, value in enumerate(values):
        whole.add(value)
        (left if index % 3 else right).add(value)
    left.merge(right)
    assert left.count == whole.count == 2_000
    assert left.mean == pytest.approx(whole.mean, rel=1e-12)
    for q in QUANTILES:
        assert left.quantile(q) == pytest.approx(whole.quantile(q), rel=1e-12)


def test_the_sketch_at_its_edges() -> None:
    empty = DurationSketch()
    assert (empty.count, empty.mean, empty.quantile(0.5)) == (0, None, None)
    small = DurationSketch()
    for value in (0.2, 0.4, 0.6):  # below a second: one bucket, read back as its mean
        small.add(value)
    assert small.quantile(0.5) == pytest.approx(0.4)
    assert small.quantile(0.0) == 0.2 and small.quantile(1.0) == 0.6
    huge = DurationSketch()
    for days in (400, 500, 600):  # beyond a year: read back as the largest seen, never more
        huge.add(days * 86400.0)
    assert huge.quantile(1.0) == 600 * 86400.0
    assert huge.quantile(0.5) == 600 * 86400.0
    zero = DurationSketch()
    zero.add(0.0)
    assert zero.quantile(0.9) == 0.0
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="finite number of seconds"):
            DurationSketch().add(bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        small.quantile(1.5)


# -- the aggregation ---------------------------------------------------------------------------------------------
def test_counts_and_splits() -> None:
    week = metrics(WEEK, INCIDENTS, PAGES, ESCALATIONS)
    assert week.incidents == 6
    assert dict(week.by_severity) == {"SEV1": 2, "SEV2": 4}
    assert list(week.by_service.items()) == [("checkout", 3), ("payments", 3)]  # a tie: by name
    assert week.escalated_incidents == 2  # INC-1 (level 3) and INC-3 (level 2); INC-4 stayed at level 1


def test_mtta_and_mttr() -> None:
    week = metrics(WEEK, INCIDENTS, PAGES, ESCALATIONS)
    assert week.mtta.count == 4 and week.mtta.mean_s == pytest.approx(330)
    assert week.mtta.median_s == pytest.approx(300, rel=0.01)
    assert week.mtta.p90_s == pytest.approx(528, rel=0.01)
    assert week.mttr.count == 4 and week.mttr.mean_s == pytest.approx(3375)
    assert week.mttr.median_s == pytest.approx(2700, rel=0.01)
    assert week.mttr.p90_s == pytest.approx(6120, rel=0.01)
    # Two values: both are the exact smallest and largest, so the interpolation is exact too.
    assert week.mtta_by_severity["SEV1"] == DurationSummary(2, 180.0, 180.0, 228.0)
    assert week.mtta_by_severity["SEV2"].count == 2 and week.mtta_by_severity["SEV2"].mean_s == pytest.approx(480)
    assert week.mttr_by_severity["SEV1"] == DurationSummary(2, 5400.0, 5400.0, 6840.0)
    assert week.mttr_by_severity["SEV2"].mean_s == pytest.approx(1350)
    assert week.mtta_by_service["checkout"].count == 3
    assert week.mtta_by_service["checkout"].mean_s == pytest.approx(240)
    assert week.mtta_by_service["checkout"].median_s == pytest.approx(240, rel=0.01)
    assert week.mtta_by_service["payments"] == DurationSummary(1, 600.0, 600.0, 600.0)
    assert week.mttr_by_service["checkout"].mean_s == pytest.approx(5400)
    assert week.mttr_by_service["payments"].mean_s == pytest.approx(1350)


def test_a_metric_without_data_is_none() -> None:
    only_open = metrics(WEEK, [incident("INC-9", "SEV3", "search", utc(21), None, None)], [], [])
    assert only_open.incidents == 1
    assert only_open.mtta == DurationSummary(0, None, None, None) == only_open.mttr
    assert only_open.mtta_by_severity["SEV3"] == DurationSummary(0, None, None, None)
    assert only_open.mttr_by_service["search"].mean_s is None


def test_pages_and_off_hours_per_responder() -> None:
    week = metrics(WEEK, INCIDENTS, PAGES, ESCALATIONS)
    assert list(week.pages.items()) == [("carol", 3), ("alice", 2), ("bob", 2), ("erin", 1)]
    assert dict(week.off_hours_pages) == {"carol": 2, "alice": 1, "bob": 1}
    assert (week.pages_total, week.off_hours_total) == (8, 4)


def test_action_items() -> None:
    week = metrics(WEEK, INCIDENTS, PAGES, ESCALATIONS)
    assert week.open_action_items == 4  # AI-1, AI-3, AI-4, AI-5
    assert [item.id for item in week.overdue_action_items] == ["AI-5", "AI-1"]  # oldest due date first
    assert week.action_items_done == 1  # AI-2, done within the week
    assert week.as_of == TODAY


def test_escalations_below_level_two_do_not_count() -> None:
    builder = ReportBuilder(WEEK)
    builder.add_escalation(EscalationFacts("INC-1", 1))
    builder.add_escalation(EscalationFacts("INC-2", 2))
    assert builder.finish([], TODAY).escalated_incidents == 1


def test_changes() -> None:
    assert change(5, 4) == "+25%"
    assert change(9, 10) == "\u221210%"
    assert change(0, 4) == "\u2212100%"
    assert change(3, 0) == "new"
    assert change(300.0, None) == "new"
    assert change(0, 0) == "\u2013"
    assert change(None, 300.0) == "\u2013"
    assert change(None, None) == "\u2013"
    assert change(100, 100) == "0%"
    assert change(1001, 1000) == "0%"
    assert change(41, 40) == "+3%"  # 2.5%: half away from zero
    assert Report.change(6, 4) == "+50%"


def test_the_report_compares_with_the_week_before() -> None:
    report = weekly_report()
    current, previous = report.current, report.previous
    assert previous.period == Period(utc(13), utc(20))
    assert previous.incidents == 4 and previous.escalated_incidents == 1
    assert (previous.pages_total, previous.off_hours_total) == (4, 1)
    assert change(current.incidents, previous.incidents) == "+50%"
    assert change(current.mtta.mean_s, previous.mtta.mean_s) == "+10%"  # 330 s against 300 s
    assert change(current.mttr.mean_s, previous.mttr.mean_s) == "\u22126%"  # 3375 s against 3600 s
    assert change(current.escalated_incidents, previous.escalated_incidents) == "+100%"
    assert change(current.off_hours_total, previous.off_hours_total) == "+300%"
    assert not report.is_empty


def test_is_empty_needs_no_incidents_and_no_pages() -> None:
    nothing = metrics(WEEK, [], [], [])
    pages_only = metrics(WEEK, [], PAGES[:1], [])
    assert Report(nothing, nothing, NOW).is_empty
    assert not Report(pages_only, nothing, NOW).is_empty


# -- the email -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "\u2013"),
        (0, "0 s"),
        (45, "45 s"),
        (59.4, "59 s"),
        (59.6, "1 min"),
        (240, "4 min"),
        (330, "6 min"),
        (3600, "1 h"),
        (3780, "1 h 3 min"),
        (4320, "1 h 12 min"),
        (86370, "1 d"),
        (2 * 86400 + 3 * 3600, "2 d 3 h"),
    ],
)
def test_durations_are_humanized(seconds: float | None, text: str) -> None:
    assert humanize_duration(seconds) == text


def row(text: str, label: str) -> str:
    """The line of the plain text that starts with ``label``."""
    return next(line for line in text.splitlines() if line.startswith(label))


def test_the_email_carries_the_figures_in_both_parts() -> None:
    subject, text, html = render_report(weekly_report())
    assert subject == "Siren weekly incident report 20\u201326 Nov 2026: 6 incidents, MTTA 6 min, MTTR 56 min"
    assert row(text, "Incidents").split() == ["Incidents", "6", "4", "+50%"]
    assert row(text, "Mean time to acknowledge").split()[-5:] == ["6", "min", "5", "min", "+10%"]
    assert row(text, "Mean time to resolve").split()[-5:] == ["56", "min", "1", "h", "\u22126%"]
    assert row(text, "Escalated incidents").split()[-3:] == ["2", "1", "+100%"]
    assert row(text, "Off-hours pages").split()[-3:] == ["4", "1", "+300%"]
    assert "  carol  3 pages  2 off-hours (67%)" in text
    assert "25 Nov 2026  2 days late" in text and "1 Nov 2026   26 days late" in text
    # The same figures in the HTML.
    for figure in ("6 min", "56 min", "+10%", "\u22126%", "+50%", "+300%", "3 pages", "2 off-hours (67%)"):
        assert figure in html, figure
    assert "median 5 min \u00b7 90th percentile 9 min \u00b7 4 acknowledged" in html
    assert "No incidents in this period" not in html
    # Every overdue item with its owner, due date and incident.
    for owner, due, late in (("carol", "1 Nov 2026", "26 days late"), ("bob", "25 Nov 2026", "2 days late")):
        assert re.search(rf">{owner}</td>\s*<td[^>]*>\s*INC-1</td>\s*<td[^>]*>\s*{due}<br>", html), owner
        assert late in html
    assert "4 open \u00b7 2 overdue \u00b7 1 done in this period" in html


def test_the_email_is_safe_for_mail_clients() -> None:
    week = metrics(
        WEEK,
        [incident("INC-1", "SEV1", SCRIPT, utc(21, 10), 120, 3600)],
        [],
        [],
        [ActionItemRecord("AI-1", "INC-1", f"Fix {SCRIPT}", IMG, date(2026, 11, 20), utc(21), "alice", None)],
    )
    nothing = metrics(WEEK.previous(), [], [], [], [])
    subject, text, html = render_report(Report(week, nothing, NOW, title=f"Report {IMG}"))
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "src=" not in lowered.replace("&lt;img src=x", "")  # no attribute loads anything
    assert "http" not in lowered  # no external resource, not even a link
    assert "<link" not in lowered and "url(" not in lowered and "javascript" not in lowered
    assert "max-width:640px" in html and 'width="640"' in html
    assert "\n" not in subject
    assert SCRIPT in text  # the plain text part is not HTML: shown as typed


def test_untrusted_names_stay_on_one_line() -> None:
    week = metrics(WEEK, [incident("INC-1", "SEV1", "check\nout\r\x07", utc(21, 10), 120, None)], [], [], [])
    subject, text, _ = render_report(Report(week, week, NOW, title="Weekly\nBcc: someone"))
    assert "\n" not in subject and subject.startswith("Weekly Bcc: someone 20")
    assert "  check out  1  MTTA 2 min" in text


def test_an_empty_period_says_so_and_still_lists_action_items() -> None:
    nothing = metrics(WEEK, [], [], [])
    before = metrics(WEEK.previous(), PREVIOUS_INCIDENTS, [], [])
    subject, text, html = render_report(Report(nothing, before, NOW))
    assert subject == "Siren incident report 20\u201326 Nov 2026: no incidents"
    assert "No incidents in this period" in html and "No incidents in this period" in text
    assert "The period before had 4 incidents." in text
    assert "Action items" in html and "AI-5" in html and "AI-1" in html
    assert "ACTION ITEMS" in text and "26 days late" in text
    assert "At a glance" not in html


def test_pages_without_incidents_still_say_there_were_none() -> None:
    pages_only = metrics(WEEK, [], PAGES, [], [])
    subject, text, html = render_report(Report(pages_only, pages_only, NOW))
    assert subject.endswith(": no incidents")
    assert "No incidents in this period" in html and "No incidents in this period" in text
    assert "Pages per responder" in html and "No overdue action items." in html
